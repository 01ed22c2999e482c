"""Localization: episode -> transcript -> subtitles -> translations -> dubs -> cuts."""
