"""The OAuth 2.1 authorization server, as protocol code: no ORM imports here.

One module per endpoint or RFC. Storage goes through the ``storage.Storage``
protocol, which ``mcp_connect.storage.OdooStorage`` implements over the models;
the controllers parse HTTP, call one function here, and serialize.
"""
