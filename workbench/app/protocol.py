"""Streamlit's websocket protocol, as a browser speaks it: for load tests that open sessions without a browser.

A browser opens ``ws://HOST/_stcore/stream`` (subprotocol ``streamlit``) and sends one ``BackMsg`` asking for
a run of a page with a query string; the server answers with ``ForwardMsg`` frames (page elements, then
``script_finished``). ``bench/load.py`` uses these two helpers to time the server's own answer.
"""

from __future__ import annotations

from typing import NamedTuple

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

__all__ = ["ServerMessage", "read_message", "run_request"]


class ServerMessage(NamedTuple):
    """One server frame: its kind (``delta``, ``script_finished``…), the element type and its text, if any."""

    kind: str
    element: str
    text: str


def run_request(page: str, query_string: str = "") -> bytes:
    """The frame a browser sends to run ``page`` (its ``url_path``) with ``query_string`` (``smiles=...``)."""
    message = BackMsg()
    message.rerun_script.page_name = page
    message.rerun_script.query_string = query_string
    return message.SerializeToString()


def read_message(data: bytes) -> ServerMessage:
    """Decode a server frame; headings, alerts and exceptions come with their text."""
    message = ForwardMsg()
    message.ParseFromString(data)
    kind = message.WhichOneof("type") or ""
    if kind != "delta" or message.delta.WhichOneof("type") != "new_element":
        return ServerMessage(kind, "", "")
    element = message.delta.new_element
    which = element.WhichOneof("type") or ""
    text = {
        "heading": element.heading.body,
        "alert": element.alert.body,
        "exception": element.exception.message,
    }.get(which, "")
    return ServerMessage(kind, which, text)
