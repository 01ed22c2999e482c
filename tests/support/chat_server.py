"""A local OpenAI-compatible chat-completions endpoint for tests, answering from a script.

Real HTTP on 127.0.0.1: the client under test talks to it exactly as it would to
llama.cpp, vLLM or a hosted API. Each request is answered by the next behaviour of the
script (the last one repeats); a behaviour is a function of the request's JSON body
returning an :class:`Answer`. Requests are recorded for assertions.

    with ChatServer(translate_lines({"Hello.": "Hola."})) as server:
        translator = ChatTranslator(server.url, "test-model")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[[dict[str, Any]], "Answer"]


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded when not a str
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer: hold the request until the server stops (or 10 s)


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def system(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "system")

    @property
    def user(self) -> str:
        return [m["content"] for m in self.body["messages"] if m["role"] == "user"][-1]

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON object in the user message (after any instructions before it)."""
        text = self.user
        return json.loads(text[text.index("{") :])


def completion(content: str, *, finish_reason: str = "stop", refusal: str | None = None) -> Answer:
    """Answer with a chat completion whose message says ``content``."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return Answer(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        }
    )


def lines_answer(texts: dict[int, str], **extra: dict[str, Any]) -> str:
    """Return the JSON a model should answer: {"lines": [{"i": i, "text": text}]}."""
    return json.dumps(
        {"lines": [{"i": i, "text": t, **extra.get(str(i), {})} for i, t in texts.items()]},
        ensure_ascii=False,
    )


def translate_lines(
    table: dict[str, str], *, wrap: Callable[[str], str] = lambda s: s
) -> Behaviour:
    """Translate each requested line by ``table`` (unknown lines become "[xx] source")."""

    def behaviour(body: dict[str, Any]) -> Answer:
        lines = Recorded(body, {}).payload["lines"]
        texts = {line["i"]: table.get(line["text"], f"[xx] {line['text']}") for line in lines}
        return completion(wrap(lines_answer(texts)))

    return behaviour


def fixed(answer: Answer) -> Behaviour:
    return lambda _body: answer


class ChatServer:
    """Serve ``behaviours`` at ``self.url`` (``http://127.0.0.1:PORT/v1``)."""

    def __init__(self, *behaviours: Behaviour) -> None:
        self.behaviours = list(behaviours)
        self.requests: list[Recorded] = []
        self.released = threading.Event()  # set on stop: hanging requests end
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Answer:
        with self._lock:
            self.requests.append(Recorded(body, headers))
            behaviour = self.behaviours.pop(0) if len(self.behaviours) > 1 else self.behaviours[0]
        return behaviour(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                answer = server._next(json.loads(raw), dict(self.headers))
                if answer.hang:
                    server.released.wait(timeout=10)
                    return
                data = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                payload = data.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler
