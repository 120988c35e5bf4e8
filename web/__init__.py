"""The FastAPI application, websockets and the pages for supervisors, agents and QA."""
