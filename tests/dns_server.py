"""A tiny DNS server on loopback for tests: answers UDP queries from a table of records, so
domain verification does real DNS lookups without any traffic leaving the machine."""

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class LocalDnsServer:
    def __init__(self):
        self.records: dict[tuple[str, str], list[str]] = {}
        self.queries: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.address = f"127.0.0.1:{self._socket.getsockname()[1]}"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def add(self, name: str, record_type: str, *values: str) -> None:
        """``add("_hot-challenge.example.com", "TXT", '"token"')``: rdata in zone-file text."""
        self.records.setdefault((name.lower().rstrip(".") + ".", record_type), []).extend(values)

    def clear(self) -> None:
        self.records.clear()

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().lower()
        record_type = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, record_type))
        values = self.records.get((name, record_type))
        if values:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 60, "IN", record_type, values)
            )
        elif not any(known == name for known, _ in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                wire, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self._socket.sendto(self._answer(wire), peer)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._socket.close()
