"""Offline ASR tooling, never imported by the live server: model download and installation
(``model_store``, ``model_fetch``, ``model_archive``, ``atomic_swap``, ``file_digests``) and
word/character error-rate evaluation (``evaluate``, ``degrade``, ``cer``).

The live path only needs :func:`asr.model_path.resolve_model_path`.
"""
