"""The openai-v2 trace's first calls in the file exporter's other encodings, for the tests.

- openai-v2.otlp.proto: `format: proto`, as exporter/fileexporter/file_writer.go writes it
  (opentelemetry-collector-contrib): each TracesData serialised with protobuf, preceded by its
  length as a 4-byte big-endian unsigned integer;
- openai-v2.pretty.json: the same TracesData pretty-printed, one document after the other
  (what `jq . openai-v2.otlp.jsonl` prints).

The protobuf messages are opentelemetry-proto's (json_format parses the OTLP JSON, whose hex ids
are first turned back into the base64 protobuf's JSON mapping expects):

    /tmp/otel-openai-v2/bin/python sample_logs/otel/other_encodings.py
"""

import base64
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "openai-v2" / "openai-v2.otlp.jsonl"
CALLS = 10
ID_KEYS = ("traceId", "spanId", "parentSpanId")


def main() -> None:
    from google.protobuf import json_format
    from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

    documents = [json.loads(line) for line in SOURCE.read_text(encoding="utf-8").splitlines()[:CALLS]]
    with (HERE / "openai-v2" / "openai-v2.otlp.proto").open("wb") as proto:
        for document in documents:
            message = json_format.ParseDict(_base64_ids(json.loads(json.dumps(document))), TracesData())
            data = message.SerializeToString()
            proto.write(len(data).to_bytes(4, "big") + data)
    pretty = "".join(json.dumps(document, indent=2, ensure_ascii=False) + "\n" for document in documents)
    (HERE / "openai-v2" / "openai-v2.pretty.json").write_text(pretty, encoding="utf-8")


def _base64_ids(node):
    if isinstance(node, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode() if k in ID_KEYS else _base64_ids(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_base64_ids(item) for item in node]
    return node


if __name__ == "__main__":
    main()
