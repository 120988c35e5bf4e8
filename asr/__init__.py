"""VAD segmentation and the Vosk streaming recognizer (audio file decoding is core:
:mod:`agent_monitor.audio.decode`). The live pipeline receives it as the
:class:`~agent_monitor.model.stages.TranscriberFactory` :class:`asr.languages.LanguageModels`,
built by :mod:`agent_monitor.compose`."""
