"""CRM Companion: a desktop app that helps a small-business owner stay close to customers.

This module is the single source of the names and version used by the CLI, the GUI and
packaging. It must stay import-light: `crmcompanion --version` reads it without Qt.
"""

__version__ = "0.1.0"
APP_NAME = "CRM Companion"
APP_ID = "io.github.crmcompanion.CRMCompanion"
APP_SLUG = "crmcompanion"
