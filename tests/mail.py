"""A real SMTP server for the tests, and a mailbox to read what it received."""

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

LINK_PATTERN = re.compile(r"https?://\S+")


class Mailbox:
    """Messages the test SMTP server has accepted, in arrival order."""

    def __init__(self):
        self._messages: list[EmailMessage] = []
        self._lock = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """Wait until `count` messages to `address` have arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([m for m in self._messages if m["To"] == address]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} email(s) to {address}, got {len(self.to(address))}")
                self._lock.wait(remaining)
        return self.to(address)


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links(message: EmailMessage) -> list[str]:
    return LINK_PATTERN.findall(body(message))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp_server() -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, mailbox
