"""LLM endpoints: the OpenAI-compatible client behind the LLM judge."""
