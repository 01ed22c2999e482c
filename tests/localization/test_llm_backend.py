"""The LLM backend against a local OpenAI-compatible endpoint (real HTTP on loopback)."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from localization.errors import TranslationFailed
from localization.translation import Bible, Character, ChatTranslator, LineRequest, Term
from localization.translation.llm import parse_answer

from chat_server import Answer, ChatServer, completion, fixed, lines_answer, translate_lines

BIBLE = Bible(
    characters=(Character("Lu Chen", "male"), Character("Xia Wan", "female")),
    terms=(Term("the Lu Group", {"es": "el Grupo Lu"}, note="the family company"),),
)
SCENE = [
    LineRequest(0, "Where were you last night?", "Lu Chen", 30),
    LineRequest(1, "At the hospital. My mother is sick.", "Xia Wan", 40),
    LineRequest(2, "The Lu Group will pay for everything.", "Lu Chen", 45),
    LineRequest(3, "I don't need your money.", "Xia Wan", 30),
]
SPANISH = {
    "Where were you last night?": "¿Dónde estabas anoche?",
    "At the hospital. My mother is sick.": "En el hospital. Mi madre está enferma.",
    "The Lu Group will pay for everything.": "El Grupo Lu lo pagará todo.",
    "I don't need your money.": "No necesito tu dinero.",
}


def translate(server: ChatServer, lines=SCENE, **options) -> list:
    with ChatTranslator(server.url, "test-model", "sk-test", **options) as translator:
        return translator.translate(lines, source="en", target="es", bible=BIBLE)


def test_lines_are_translated_with_the_bible_budgets_and_speakers_in_the_request():
    with ChatServer(translate_lines(SPANISH)) as server:
        results = translate(server)

    assert [r.text for r in results] == list(SPANISH.values())
    assert not any(r.needs_human or r.over_budget or r.glossary_problems for r in results)
    assert {r.backend for r in results} == {"llm"}
    [request] = server.requests
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.body["model"] == "test-model"
    system = request.system
    assert "English (en) into Spanish (es)" in system
    assert "- Lu Chen: male" in system and "- Xia Wan: female" in system
    assert '"the Lu Group" → "el Grupo Lu"' in system
    assert "the family company" in system
    assert request.payload["lines"][1] == {
        "i": 1,
        "speaker": "Xia Wan",
        "gender": "female",
        "text": "At the hospital. My mother is sick.",
        "max_chars": 40,
    }


def test_each_batch_carries_its_neighbouring_lines_as_context():
    with ChatServer(translate_lines(SPANISH)) as server:
        translate(server, lines_per_request=2, context_lines=1)

    first, second = server.requests
    assert [line["i"] for line in first.payload["lines"]] == [0, 1]
    assert [line["text"] for line in first.payload["context"]] == [SCENE[2].text]
    assert [line["i"] for line in second.payload["lines"]] == [2, 3]
    assert [line["text"] for line in second.payload["context"]] == [SCENE[1].text]
    assert "max_chars" not in second.payload["context"][0]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda js: f"```json\n{js}\n```",
        lambda js: f"Sure! Here are the translations:\n\n```\n{js}\n```\nLet me know if…",
        lambda js: f"Here you go: {js} — hope that helps {{not json}}",
    ],
    ids=["fenced", "fenced-with-prose", "inline-with-prose"],
)
def test_answers_wrapped_in_code_fences_or_prose_are_read(wrap):
    with ChatServer(translate_lines(SPANISH, wrap=wrap)) as server:
        results = translate(server)

    assert [r.text for r in results] == list(SPANISH.values())


def test_a_line_over_its_budget_is_sent_back_once_for_a_shorter_version():
    long = dict(
        SPANISH, **{"I don't need your money.": "Yo no necesito para nada tu dinero, de verdad."}
    )
    shorter = fixed(completion(lines_answer({3: "No quiero tu dinero."})))
    with ChatServer(translate_lines(long), shorter) as server:
        results = translate(server)

    assert results[3].text == "No quiero tu dinero."
    assert not results[3].over_budget
    assert results[3].note == "revised on a second request"
    _, revision = server.requests
    [asked] = revision.payload["lines"]
    assert asked["i"] == 3 and asked["max_chars"] == 30
    assert asked["translation"] == "Yo no necesito para nada tu dinero, de verdad."
    assert asked["fix"] == ["too long: 46 characters, at most 30"]
    assert [r.text for r in results[:3]] == list(SPANISH.values())[:3]


def test_a_line_still_too_long_after_the_follow_up_is_flagged_with_its_best_version():
    long = dict(
        SPANISH, **{"I don't need your money.": "Yo no necesito para nada tu dinero, de verdad."}
    )
    still_long = fixed(completion(lines_answer({3: "No necesito para nada tu dinero, amor."})))
    with ChatServer(translate_lines(long), still_long) as server:
        results = translate(server)

    assert len(server.requests) == 2  # one follow-up, no more
    assert results[3].over_budget
    assert results[3].text == "No necesito para nada tu dinero, amor."
    assert "still over budget" in results[3].note


def test_a_translation_missing_a_glossary_term_is_sent_back_with_the_problem():
    wrong = dict(
        SPANISH, **{"The Lu Group will pay for everything.": "La empresa Lu lo pagará todo."}
    )
    fixed_term = fixed(completion(lines_answer({2: "El Grupo Lu lo pagará todo."})))
    with ChatServer(translate_lines(wrong), fixed_term) as server:
        results = translate(server)

    assert results[2].text == "El Grupo Lu lo pagará todo."
    assert results[2].glossary_problems == ()
    [asked] = server.requests[1].payload["lines"]
    assert asked["fix"] == ['"the Lu Group" should be translated as "el Grupo Lu" (series bible)']


def test_a_refused_line_is_marked_for_a_human_with_the_models_words_and_the_rest_goes_on():
    refusing = lines_answer(
        {0: SPANISH[SCENE[0].text], 1: "", 2: SPANISH[SCENE[2].text], 3: SPANISH[SCENE[3].text]},
        **{"1": {"refusal": "I can't help with medical content."}},
    )
    with ChatServer(fixed(completion(refusing))) as server:
        results = translate(server)

    assert results[1].needs_human and results[1].text == ""
    assert results[1].note == "the LLM refused this line: I can't help with medical content."
    assert [r.needs_human for r in results] == [False, True, False, False]
    assert results[3].text == SPANISH[SCENE[3].text]


def test_a_batch_refused_because_of_one_line_is_split_until_only_that_line_is_left():
    def squeamish(body):
        texts = [line["text"] for line in json.loads(body["messages"][-1]["content"])["lines"]]
        if any("hospital" in t for t in texts):
            return completion("I'm sorry, but I can't help with that request.")
        return translate_lines(SPANISH)(body)

    with ChatServer(squeamish) as server:
        results = translate(server)

    assert [r.needs_human for r in results] == [False, True, False, False]
    assert "I'm sorry, but I can't help with that request." in results[1].note
    assert [r.text for r in results if not r.needs_human] == [
        SPANISH[SCENE[i].text] for i in (0, 2, 3)
    ]
    assert len(server.requests) == 5  # 4 lines, then 2 + 2, then 1 + 1 in the refused half


def test_a_refusal_in_the_api_refusal_field_counts_as_one():
    with ChatServer(fixed(completion("", refusal="This content violates our policy."))) as server:
        results = translate(server, lines=SCENE[:1])

    assert results[0].needs_human
    assert results[0].note == "the LLM refused this line: This content violates our policy."


def test_an_english_apology_instead_of_a_spanish_line_is_taken_for_a_refusal():
    apology = lines_answer({0: "I'm sorry, I cannot translate this."})
    with ChatServer(fixed(completion(apology))) as server:
        results = translate(server, lines=SCENE[:1])

    assert results[0].needs_human and results[0].text == ""


def test_lines_the_model_skipped_are_asked_for_again():
    partial = fixed(
        completion(lines_answer({0: SPANISH[SCENE[0].text], 2: SPANISH[SCENE[2].text]}))
    )
    with ChatServer(partial, translate_lines(SPANISH)) as server:
        results = translate(server)

    assert [r.text for r in results] == list(SPANISH.values())
    assert [line["i"] for line in server.requests[1].payload["lines"]] == [1, 3]


def test_malformed_output_marks_the_lines_for_a_human_with_what_the_model_said():
    with ChatServer(fixed(completion("Translation: {lines: [oops"))) as server:
        results = translate(server, lines=SCENE[:2])

    assert [r.needs_human for r in results] == [True, True]
    assert "it answered: Translation: {lines: [oops" in results[0].note
    assert len(server.requests) == 3  # both lines, then each alone


def test_a_model_that_never_answers_in_json_fails_the_whole_call_after_a_few_tries():
    with (
        ChatServer(fixed(completion("Hola, ¿en qué puedo ayudarte?"))) as server,
        pytest.raises(TranslationFailed, match=r"without a usable translation.*Hola, ¿en qué"),
    ):
        translate(server)

    assert len(server.requests) == 4


def test_a_429_is_retried_after_the_delay_the_server_asks_for():
    limited = fixed(Answer(status=429, body={"error": "slow down"}, headers={"Retry-After": "1"}))
    with ChatServer(limited, translate_lines(SPANISH)) as server:
        started = time.monotonic()
        results = translate(server)
        waited = time.monotonic() - started

    assert [r.text for r in results] == list(SPANISH.values())
    assert len(server.requests) == 2
    assert waited >= 0.9  # without Retry-After the first retry would be immediate


def test_a_server_error_is_retried():
    broken = fixed(Answer(status=503, body={"error": "loading model"}))
    with ChatServer(broken, translate_lines(SPANISH)) as server:
        results = translate(server)

    assert results[0].text == SPANISH[SCENE[0].text]
    assert len(server.requests) == 2


def test_rate_limiting_that_does_not_stop_fails_with_a_clear_message():
    limited = fixed(Answer(status=429, body={"error": "quota"}, headers={"Retry-After": "0"}))
    with (
        ChatServer(limited) as server,
        pytest.raises(TranslationFailed, match=r"still rate limiting \(HTTP 429\) after 2"),
    ):
        translate(server, retries=2)

    assert len(server.requests) == 3


def test_an_endpoint_slower_than_the_timeout_fails_without_retrying():
    with (
        ChatServer(fixed(Answer(hang=True))) as server,
        pytest.raises(TranslationFailed) as failure,
    ):
        translate(server, timeout_s=0.5)

    assert str(failure.value) == f"the LLM endpoint at {server.url} did not answer within 0.5 s"
    assert len(server.requests) == 1


def test_an_http_error_fails_with_the_status_and_what_the_server_said():
    denied = fixed(Answer(status=401, body={"error": {"message": "invalid api key"}}))
    with (
        ChatServer(denied) as server,
        pytest.raises(TranslationFailed, match=r"answered HTTP 401.*invalid api key"),
    ):
        translate(server)


def test_an_unreachable_endpoint_fails_with_its_address():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free now, and nothing listens once closed
    url = f"http://127.0.0.1:{port}/v1"
    with (
        ChatTranslator(url, "m", retries=0) as translator,
        pytest.raises(
            TranslationFailed, match=re.escape(f"could not reach the LLM endpoint at {url}")
        ),
    ):
        translator.translate(SCENE, source="en", target="es", bible=BIBLE)


def test_something_that_is_not_a_chat_completion_fails_clearly():
    with (
        ChatServer(fixed(Answer(body={"result": "ok"}))) as server,
        pytest.raises(TranslationFailed, match="OpenAI-compatible"),
    ):
        translate(server)


def test_an_llm_takes_any_pair_of_language_tags():
    with ChatTranslator("http://127.0.0.1:9/v1", "m") as translator:
        assert translator.supports("zh-Hans", "pt-BR")
        assert translator.supports("en", "id")
        assert not translator.supports("es", "es")
        assert translator.describe() == "llm m at http://127.0.0.1:9/v1 (any language pair)"


def test_answers_are_parsed_from_lists_and_translation_keys_too():
    assert parse_answer('[{"i": "2", "translation": "Hola"}]')[2].text == "Hola"
    assert parse_answer('{"translations": [{"i": 0, "text": "Sí"}]}')[0].text == "Sí"
    assert parse_answer("no json here") is None
    assert parse_answer('{"lines": []}') is None
