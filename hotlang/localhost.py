"""The host of hotlang's command line: I/O for Hot code run locally (`python -m hotlang
test`), on the reference implementations in `hostio/` — HTTP and TCP under the default egress
policy (plus `--allow-host` entries), stores in memory for the process, the default
embedding, resources from the `--resources` directories, and files in a directory (`--files`,
else a temporary one). Printed output stays in the
test's captured stdout; there are no context variables and no events."""

from __future__ import annotations

import os

from hostio.egress import EgressPolicy
from hostio.embedding import embed as default_embed
from hostio.files import DirectoryFileStore
from hostio.http import HttpClient
from hostio.memstore import MemoryStore
from hostio.resources import Resources
from hostio.tcp import connect

from .runtime import Hooks


class LocalHooks(Hooks):
    def __init__(self, resource_dirs=(), allow_hosts=(), files_dir=None):
        self.policy = EgressPolicy(allow=list(allow_hosts))
        self._http = None
        self._store = MemoryStore()
        self._resources = Resources.from_dirs(resource_dirs)
        self._files = DirectoryFileStore(files_dir)

    def http_client(self):
        if self._http is None:
            self._http = HttpClient(self.policy)
        return self._http

    def store_backend(self):
        return self._store

    def embed(self, texts):
        return [default_embed(t) for t in texts]

    def resources(self):
        return self._resources

    def file_store(self):
        return self._files

    def tcp_connect(self, host, port, timeout, nodelay):
        return connect(self.policy, host, port, timeout, nodelay)

    def env_all(self):
        """The command line's environment, as Hot's own CLI gives it."""
        return dict(os.environ)

    def env_get(self, name):
        return os.environ.get(name)
