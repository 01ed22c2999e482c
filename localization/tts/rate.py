"""How fast a voice speaks, in characters per second: the currency of translation budgets.

Characters are counted as subtitle reading speed counts them: every character,
spaces and punctuation included. CJK text therefore gives fewer, denser characters
per second than Latin text, and budgets in that language come out in its characters.
"""

from __future__ import annotations

import logging
import threading

from localization.errors import SpeechFailed
from localization.translation.budget import spoken_length
from localization.tts.base import Synthesizer
from localization.tts.voices import Voice

log = logging.getLogger(__name__)

# The same few lines of melodrama in each language: dialogue, not a pangram, so the
# pauses at full stops and commas weigh as they do in a real episode.
CALIBRATION = {
    "en": "I never wanted your money. I only wanted you to look at me the way you look at "
    "her. Tell me the truth, just once.",
    "es": "Nunca quise tu dinero. Solo quería que me miraras como la miras a ella. Dime la "
    "verdad, aunque sea una vez.",
    "pt": "Eu nunca quis o seu dinheiro. Só queria que você olhasse para mim como olha para "
    "ela. Me diga a verdade, só uma vez.",
    "ca": "Mai no he volgut els teus diners. Només volia que em miressis com la mires a ella. "
    "Digues-me la veritat, només una vegada.",
    "id": "Aku tidak pernah menginginkan uangmu. Aku hanya ingin kamu menatapku seperti kamu "
    "menatapnya. Katakan yang sebenarnya, sekali saja.",
    "ms": "Aku tidak pernah mahukan wang kau. Aku cuma mahu kau pandang aku seperti kau pandang "
    "dia. Beritahu aku perkara sebenar, sekali sahaja.",
    "fr": "Je n'ai jamais voulu ton argent. Je voulais seulement que tu me regardes comme tu "
    "la regardes. Dis-moi la vérité, une seule fois.",
    "de": "Ich wollte nie dein Geld. Ich wollte nur, dass du mich so ansiehst, wie du sie "
    "ansiehst. Sag mir die Wahrheit, nur ein einziges Mal.",
    "it": "Non ho mai voluto i tuoi soldi. Volevo solo che mi guardassi come guardi lei. "
    "Dimmi la verità, almeno una volta.",
    "tr": "Paranı hiç istemedim. Sadece bana ona baktığın gibi bakmanı istedim. Bana gerçeği "
    "söyle, sadece bir kez.",
    "vi": "Em chưa bao giờ cần tiền của anh. Em chỉ muốn anh nhìn em như cách anh nhìn cô ấy. "
    "Hãy nói thật với em, chỉ một lần thôi.",
    "ru": "Мне никогда не нужны были твои деньги. Я просто хотела, чтобы ты смотрел на меня "
    "так, как смотришь на неё. Скажи мне правду, хоть раз.",
    "zh": "我从来不想要你的钱。我只想让你像看她那样看着我。告诉我真相，就这一次。",
    "zh-hant": "我從來不想要你的錢。我只想讓你像看她那樣看著我。告訴我真相，就這一次。",
    "ja": "あなたのお金なんて欲しくなかった。彼女を見るように私を見てほしかっただけ。"
    "一度だけでいいから、本当のことを言って。",
    "ko": "나는 당신 돈을 원한 적 없어요. 그녀를 보듯이 나를 봐 주길 바랐을 뿐이에요. "
    "한 번만이라도 진실을 말해 줘요.",
    "th": "ฉันไม่เคยต้องการเงินของคุณ ฉันแค่อยากให้คุณมองฉันแบบที่คุณมองเธอ บอกความจริงกับฉันสักครั้งเถอะ",
    "hi": "मुझे कभी तुम्हारा पैसा नहीं चाहिए था। मैं बस चाहती थी कि तुम मुझे वैसे देखो जैसे "
    "उसे देखते हो। एक बार सच बताओ।",
    "ar": "لم أرد أموالك أبدًا. أردت فقط أن تنظر إليّ كما تنظر إليها. قل لي الحقيقة، ولو لمرة واحدة.",
}
_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")

_rates: dict[tuple[str, Voice, str], float] = {}
_rates_lock = threading.Lock()


def calibration_text(language: str) -> str:
    """Return the calibration lines for ``language``; English for a language without any."""
    tag = language.strip().lower().replace("_", "-")
    if tag.startswith(_TRADITIONAL):
        return CALIBRATION["zh-hant"]
    text = CALIBRATION.get(tag) or CALIBRATION.get(tag.split("-")[0])
    if text is None:
        log.warning("no calibration text for %r; measuring the speaking rate in English", language)
        return CALIBRATION["en"]
    return text


def measure_rate(synth: Synthesizer, voice: Voice, language: str = "") -> float:
    """Return how many characters a second ``voice`` speaks in ``language``.

    Measured once per backend, voice and language and then remembered for the
    process: a speech server is asked only the first time.
    """
    language = language or voice.language
    key = (synth.name, voice, language)
    with _rates_lock:
        if key in _rates:
            return _rates[key]
    text = calibration_text(language)
    clip = synth.synthesize(text, voice)
    if clip.duration_s < 0.5:
        raise SpeechFailed(
            f"{voice.voice!r} spoke the {language or 'calibration'} sentence in "
            f"{clip.duration_s:.2f} s: the voice cannot speak this language"
        )
    # Counted the way translation budgets count (spoken characters, CJK without spaces).
    rate = spoken_length(text, language) / clip.duration_s
    with _rates_lock:
        _rates[key] = rate
    log.info("%s speaks %s at %.1f characters/s", voice.voice, language, rate)
    return rate
