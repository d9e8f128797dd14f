"""Where the GS1 EPCIS example documents and our own test documents live."""

import json
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

DATA = Path(__file__).parent / "data"

# Example documents refused, with the reason each is refused (matched against the Chinese message).
REFUSED = {
    # A custom event type: the standard's extension mechanism, but we cannot interpret its meaning.
    "JSON-Schema/test/Extended-Event.json": "扩展事件类型 'example:CustomEvent'",
    # sourceList/destinationList written as an object; the EPCIS 2.0 JSON Schema requires an array.
    "JSON-simple-context/Example-TransactionEvents-2020_07_03y.jsonld": "sourceList 应为数组",
    # bizRules is a sensorMetadata field; on a sensorReport it is neither standard nor namespaced (XSD/JSON Schema).
    "JSON/WithSensorData/SensorDataExample8.jsonld": "sensorReport 中有未知字段 'bizRules'",
    "JSON-simple-context/WithSensorData/SensorDataExample8.jsonld": "sensorReport 中有未知字段 'bizRules'",
    "XML/WithSensorData/SensorDataExamples.xml": "第 8 个事件：sensorReport 中有未知字段 'bizRules'",
    # <sensorMetaData> (wrong case) is not an element of sensorElement.
    "XSL/1.2/XML/AssociationEvent.xml": "未知元素 'sensorMetaData'",
    # Master data documents carry vocabularies, not events.
    "XML/CBV/CBV-11.4-2020-06-16a.xml": "主数据文档",
    "XML/Mimasu/Example-masterData.xml": "主数据文档",
    # Capture-interface job status responses, not EPCIS documents.
    "XML/CaptureJob/Example-CaptureJobRunning.xml": "EPCISCaptureJob",
    "XML/CaptureJob/Example-CaptureJobSuccess.xml": "EPCISCaptureJob",
    "XML/CaptureJob/Example-CaptureJobWithErrorFile.xml": "EPCISCaptureJob",
    "XML/CaptureJob/Example-CaptureJobWithErrors.xml": "EPCISCaptureJob",
}


def examples_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "epcis-examples"


def example_paths() -> list[str]:
    root = examples_dir()
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".json", ".jsonld", ".xml"))


def read_example(rel: str) -> bytes:
    path = examples_dir() / rel
    if not path.is_file():
        pytest.skip(f"EPCIS examples not found at {path}")
    return path.read_bytes()


@cache
def reference_hashes() -> dict:
    return json.loads((DATA / "reference_hashes.json").read_text())
