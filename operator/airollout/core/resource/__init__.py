"""The AIRollout resource: pydantic models of spec and status, CRD schema and validation."""
