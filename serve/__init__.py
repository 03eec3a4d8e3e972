"""The cxnlp classify service (FastAPI): `uvicorn serve.app:app` or `cxnlp serve MODEL`."""
