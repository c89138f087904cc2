import orjson
import pytest

from alice.sim.wire import (
    DONE,
    completion_body,
    count_words,
    error_body,
    last_user_text,
    prompt_words,
    render,
    split_tokens,
    stream_frames,
)


@pytest.mark.parametrize("text", ["Hej på dig!", "  leading and trailing  ", "one", "", "rad ett\nrad två\n"])
def test_tokens_concatenate_to_the_exact_text(text):
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert len([t for t in tokens if t.strip()]) == count_words(text)


def test_prompt_words_count_all_messages_and_text_parts():
    messages = [
        {"role": "system", "content": "Du är hjälpsam."},
        {"role": "user", "content": [{"type": "text", "text": "två ord"}, {"type": "image_url", "image_url": {}}]},
        {"role": "assistant", "content": None},
    ]
    assert prompt_words(messages) == 5
    assert prompt_words("not a list") == 0


def test_last_user_text_skips_later_assistant_turns():
    messages = [{"role": "user", "content": "första"}, {"role": "assistant", "content": "svar"},
                {"role": "user", "content": "andra frågan"}, {"role": "assistant", "content": "x"}]
    assert last_user_text(messages) == "andra frågan"
    assert last_user_text([]) == ""


def test_completion_body_is_an_openai_chat_completion():
    body = orjson.loads(completion_body(render("ok:a", "tre små ord"), b"chatcmpl-1", 1700000000, 4))
    assert body == {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "ok:a",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "tre små ord"}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7},
    }


def test_model_names_are_json_escaped():
    body = orjson.loads(completion_body(render('ok:"quoted"', "x"), b"id", 1, 0))
    assert body["model"] == 'ok:"quoted"'


@pytest.mark.parametrize("include_usage", [False, True])
def test_stream_frames_shape(include_usage):
    frames = stream_frames(render("ok", "a b c"), b"chatcmpl-2", 5, 2, include_usage)
    assert all(f.startswith(b"data: ") and f.endswith(b"\n\n") for f in frames)
    assert DONE not in frames
    chunks = [orjson.loads(f[6:]) for f in frames]
    assert {c["id"] for c in chunks} == {"chatcmpl-2"}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"]["content"] for c in chunks[1:4]] == ["a", " b", " c"]
    assert chunks[4]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    if include_usage:
        assert len(chunks) == 6
        assert chunks[5]["choices"] == []
        assert chunks[5]["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    else:
        assert len(chunks) == 5


def test_error_body():
    assert orjson.loads(error_body("nope", "invalid_request_error", "x", "messages")) == {
        "error": {"message": "nope", "type": "invalid_request_error", "param": "messages", "code": "x"}}
