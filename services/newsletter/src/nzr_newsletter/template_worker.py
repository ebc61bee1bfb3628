"""Renders one campaign template in its own process, under a memory and CPU-time limit.

Started by ``templates.render_bounded``: reads the request as JSON on stdin, writes the rendered
parts or the refusal as JSON on stdout. The parent kills it after its time limit; the limits set
here stop it also when the parent is gone, and keep a template that builds huge values in memory
from taking the machine's memory.
"""

from __future__ import annotations

import json
import resource
import sys


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard))


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    _limit(resource.RLIMIT_CPU, int(request["cpu_seconds"]))
    from nzr_newsletter.sandbox import render_in_sandbox
    from nzr_newsletter.templates import TemplateRefused

    _limit(resource.RLIMIT_AS, int(request["memory_bytes"]))
    try:
        rendered = render_in_sandbox(
            subject=request["subject"],
            body=request["body"],
            context=request["context"],
            max_chars=int(request["max_chars"]),
        )
        answer = {"ok": True, "subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    except TemplateRefused as refused:
        answer = {"ok": False, "field": refused.field, "reason": refused.reason}
    except MemoryError:
        answer = {"ok": False, "field": "body", "reason": "the template needs more memory than allowed"}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
