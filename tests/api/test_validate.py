import pytest

from alice.api.errors import BadRequest
from alice.api.validate import validate_chat_body

OK = {"model": "chat", "messages": [{"role": "user", "content": "Hej"}]}


def test_minimal_body_is_valid():
    validate_chat_body(OK)
    validate_chat_body({**OK, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    validate_chat_body({**OK, "messages": [{"role": "assistant", "content": None, "tool_calls": []}]})


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], None),
        ({"messages": OK["messages"]}, "model"),
        ({"model": "", "messages": OK["messages"]}, "model"),
        ({"model": 3, "messages": OK["messages"]}, "model"),
        ({"model": "chat"}, "messages"),
        ({"model": "chat", "messages": []}, "messages"),
        ({"model": "chat", "messages": ["hi"]}, "messages[0]"),
        ({"model": "chat", "messages": [{"role": 5, "content": "x"}]}, "messages[0].role"),
        ({"model": "chat", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "chat", "messages": [{"role": "user"}]}, "messages[0].content"),
        ({"model": "chat", "messages": [{"role": "user", "content": 7}]}, "messages[0].content"),
        ({"model": "chat", "messages": [{"role": "user", "content": [1]}]}, "messages[0].content[0]"),
        ({**OK, "stream": "yes"}, "stream"),
        ({**OK, "temperature": 3}, "temperature"),
        ({**OK, "temperature": True}, "temperature"),
        ({**OK, "max_tokens": 0}, "max_tokens"),
        ({**OK, "max_tokens": "10"}, "max_tokens"),
        ({**OK, "n": 2}, "n"),
        ({**OK, "stream_options": []}, "stream_options"),
    ],
)
def test_bad_bodies_name_the_field(body, param):
    with pytest.raises(BadRequest) as err:
        validate_chat_body(body)
    assert err.value.status == 400
    assert err.value.param == param
