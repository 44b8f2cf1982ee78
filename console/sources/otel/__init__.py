"""Reading OpenTelemetry GenAI spans as the instrumentations apps use actually write them.

console/sources/otlp.py turns TracesData into records; the pieces it uses live here:

- encoding.py: the OTLP/JSON encoding (attributes, AnyValue, ids, nanoseconds);
- genai.py: the GenAI semantic conventions (gen_ai.*), as written by opentelemetry-
  instrumentation-openai-v2, OpenLLMetry, openlit and Logfire, with each one's quirks;
- openinference.py: OpenInference's llm.* spans (Arize Phoenix's instrumentations);
- logfire.py: Logfire's streams, two spans each, joined into one request;
- errors.py: one canonical error type per failure, whatever the source wrote;
- protobuf.py: opentelemetry-proto's decoded messages (the OTLP/HTTP receiver's protobuf
  and JSON bodies, console/sources/otlp_http.py) as the OTLP/JSON the mapping reads.
"""
