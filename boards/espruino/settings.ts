// The firmware's settings (boards/README.md "Settings"): the Storage file it reads them from and the range
// of its telemetry interval. The firmware (bundled into each board's build) and `npm run flash` (which checks
// a maker's settings before writing them) both take them from here.

/** The Storage file the firmware reads its settings from, and flash writes --settings to. */
export const SETTINGS_FILE = "starling.json";
/** The shortest and longest telemetry interval, in seconds: in the settings, or set by a command. */
export const MIN_SECONDS = 1;
export const MAX_SECONDS = 86400;
