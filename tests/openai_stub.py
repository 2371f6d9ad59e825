"""A local OpenAI-compatible chat-completions server with scripted failures, for tests and `bench/filter.py`.

Each request is keyed by the `URL: ...` line of its prompt; `plan(key, attempt)` says what the n-th
request for that key gets: "ok", "429", "500", "slow" (answers after `slow_seconds`) or "malformed"
(output that is not the JSON asked for). Answers are tool calls when the request offers tools,
JSON content otherwise.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Plan = Callable[[str, int], str]
Verdict = Callable[[str], dict[str, Any]]


def good_unless_junk(prompt: str) -> dict[str, Any]:
    """GOOD with Earth Science suggestions, or POOR when the page text mentions 'junk'."""
    poor = "junk" in prompt.split("Page text:", 1)[-1].lower()
    return {
        "quality": "POOR" if poor else "GOOD",
        "reasons": ["thin navigation page"] if poor else ["dense description of a dataset"],
        "division": "Earth Science",
        "document_type": "Data",
        "confidence": 0.9,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connect at once under high concurrency


class StubLLM:
    """The server, running in a background thread on 127.0.0.1 until `close()`."""

    def __init__(
        self,
        plan: Plan = lambda key, attempt: "ok",
        verdict: Verdict = good_unless_junk,
        *,
        delay: float = 0.0,
        slow_seconds: float = 2.0,
    ) -> None:
        self.plan, self.verdict, self.delay, self.slow_seconds = plan, verdict, delay, slow_seconds
        self.attempts: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        return sum(self.attempts.values())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        prompt = _user_text(body)
        key = next((line[5:] for line in prompt.splitlines() if line.startswith("URL: ")), prompt[:80])
        with self._lock:
            self.attempts[key] += 1
            attempt = self.attempts[key]
            self.headers.append(headers)
        action = self.plan(key, attempt)
        time.sleep(self.slow_seconds if action == "slow" else self.delay)
        if action in ("429", "500"):
            kind = "rate_limit_exceeded" if action == "429" else "server_error"
            return int(action), {"error": {"message": f"stub {kind}", "type": kind, "code": kind}}, {"retry-after": "0"}
        arguments = "{not json" if action == "malformed" else json.dumps(self.verdict(prompt))
        tools = body.get("tools") or []
        message: dict[str, Any] = {"role": "assistant", "content": arguments}
        if tools:
            call = {"id": f"call_{attempt}", "type": "function", "function": {"name": "", "arguments": arguments}}
            call["function"]["name"] = tools[0]["function"]["name"]
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return (
            200,
            {
                "id": f"stub-{attempt}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "stub"),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
                "usage": {
                    "prompt_tokens": len(prompt) // 4,
                    "completion_tokens": 40,
                    "total_tokens": len(prompt) // 4 + 40,
                },
            },
            {},
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
            disable_nagle_algorithm = True
            wbufsize = -1  # headers and body leave in one write

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                status, payload, extra = stub._answer(body, {k.lower(): v for k, v in self.headers.items()})
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout under test)

            def do_GET(self) -> None:  # noqa: N802 - GET /calls: requests answered so far
                data = json.dumps({"calls": stub.calls}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return str(content or "")
    return ""


if __name__ == "__main__":  # a server in its own process (bench/filter.py): prints its URL, serves until killed
    import sys

    server = StubLLM(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(server.url, flush=True)
    threading.Event().wait()
