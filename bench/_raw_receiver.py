"""The upload benchmark's baseline: a bare socket server that receives one HTTP request body at
a time and writes it to a file on the given disk, the least any upload endpoint must do (no
parsing of the multipart body, no hashing, no database). Prints its port, then serves until
killed.

    python -m bench._raw_receiver DIRECTORY
"""

import socket
import sys
from pathlib import Path

CHUNK = 256 * 1024


def serve(directory: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        print(listener.getsockname()[1], flush=True)
        while True:
            connection, _ = listener.accept()
            with connection:
                receive(connection, directory / "received.bin")


def receive(connection: socket.socket, target: Path) -> None:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(CHUNK)
        if not chunk:
            return
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    with open(target, "wb") as handle:
        handle.write(body)
        remaining = length - len(body)
        while remaining > 0:
            chunk = connection.recv(min(CHUNK, remaining))
            if not chunk:
                break
            handle.write(chunk)
            remaining -= len(chunk)
    connection.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    target.unlink()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
