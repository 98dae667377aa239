"""filterd_client -- check texts with filterd from Python: a blocking and an asyncio client.

See client/python/README.md; the protocol is docs/protocol.md."""
from .core import (DEFAULTS, LABEL_FALLBACK, LABEL_PASS, FilterdError, Unavailable,
                   deciding_match, fallback_reply, msgsec_check)
from .sync import Client
from .aio import AsyncClient

__all__ = ['Client', 'AsyncClient', 'FilterdError', 'Unavailable', 'DEFAULTS', 'LABEL_PASS',
           'LABEL_FALLBACK', 'deciding_match', 'fallback_reply', 'msgsec_check']
