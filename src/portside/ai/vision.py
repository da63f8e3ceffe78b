"""Photos read by any OpenAI-compatible chat endpoint that accepts images (a store's
`vision` settings): `POST {base_url}/chat/completions` with the photo as a `data:` URL.

The model is asked for a short description for the store's agent and one label of
IMAGE_LABELS, as a JSON object; the answer is checked, never trusted: anything else
(no JSON, a label it was not offered, an empty or overlong description) is a failure,
and the agent carries on with what it has without it.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx

from portside.domain.ports import IMAGE_LABELS, ImageReading, MediaEndpoint, ReadingFailed

ENDPOINT = "endpoint"
MAX_DESCRIPTION = 600
MAX_CONTEXT = 500
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_LABELS = ", ".join(sorted(IMAGE_LABELS))
PROMPT = (
    "A shopper sent this photo to an online store's customer service. Describe what it "
    "shows in one or two short sentences for the store's agent, written in the language "
    "{language}, and choose the one label that fits best: damaged_item (a product "
    "that is broken, torn, stained or crushed), wrong_item (not the product that was "
    "ordered: another model, colour or size), payment_error (a screenshot of a failed or "
    "declined payment), size_label (a size label or size chart), other. Answer with a "
    'JSON object only: {{"description": "...", "label": "..."}}.'
)


class EndpointVision:
    """One store's OpenAI-compatible vision endpoint, on the server's pool."""

    def __init__(self, client: httpx.AsyncClient, endpoint: MediaEndpoint) -> None:
        self._client = client
        self._endpoint = endpoint

    async def describe(
        self, image: bytes, content_type: str, context_text: str | None, language: str
    ) -> ImageReading:
        endpoint = self._endpoint
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        content: list[dict[str, Any]] = [{"type": "text", "text": PROMPT.format(language=language)}]
        if context_text:
            said = " ".join(context_text.split())[:MAX_CONTEXT]
            content.append({"type": "text", "text": f"The shopper wrote with it: {said}"})
        data_url = f"data:{content_type};base64,{base64.b64encode(image).decode('ascii')}"
        content.append({"type": "image_url", "image_url": {"url": data_url}})
        body = {
            "model": endpoint.model,
            "messages": [{"role": "user", "content": content}],
            "temperature": 0,
            "max_tokens": 300,
            "stream": False,
        }
        try:
            response = await self._client.post(
                f"{endpoint.base_url.rstrip('/')}/chat/completions",
                json=body,
                headers=headers,
                timeout=httpx.Timeout(endpoint.timeout_s),
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(
                f"no answer from the vision endpoint within {endpoint.timeout_s} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise ReadingFailed(
                f"the vision endpoint could not be reached: {type(exc).__name__}"
            ) from exc
        if response.status_code != 200:
            raise ReadingFailed(f"the vision endpoint answered {response.status_code}")
        return read_answer(_content(response))


def _content(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ReadingFailed("the vision endpoint's answer is not a chat completion") from exc
    if not isinstance(content, str):
        raise ReadingFailed("the vision endpoint's answer has no text")
    return content


def read_answer(content: str) -> ImageReading:
    """The model's JSON answer, checked."""
    try:
        data: Any = json.loads(_FENCE.sub("", content.strip()))
    except ValueError as exc:
        raise ReadingFailed("the vision model did not answer with JSON") from exc
    if not isinstance(data, dict):
        raise ReadingFailed("the vision model did not answer with a JSON object")
    text = data.get("description")
    if not isinstance(text, str) or not text.strip():
        raise ReadingFailed("the vision model gave no description")
    text = " ".join(text.split())
    if len(text) > MAX_DESCRIPTION:
        raise ReadingFailed("the vision model's description is too long")
    raw = data.get("labels", data.get("label"))
    labels = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(label, str) and label in IMAGE_LABELS for label in labels)
    ):
        raise ReadingFailed(f"the vision model's label is not one of {_LABELS}")
    return ImageReading(text, tuple(dict.fromkeys(labels)), ENDPOINT)
