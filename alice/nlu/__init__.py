"""Understanding: pluggable embedders, the intent registry and classifier, slots, language."""

from alice.nlu.classifier import ClassifierSettings, IntentClassifier, IntentResult
from alice.nlu.lang import detect_language
from alice.nlu.registry import Intent, IntentRegistry, RegistryError, load_registry
from alice.nlu.slots import extract_slots

__all__ = [
    "ClassifierSettings",
    "Intent",
    "IntentClassifier",
    "IntentRegistry",
    "IntentResult",
    "RegistryError",
    "detect_language",
    "extract_slots",
    "load_registry",
]
