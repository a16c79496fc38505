"""Settings and the files Kinline reads at start: the settings model, the escalation routes file,
the knowledge files, the i18n catalogs and where they all live."""
