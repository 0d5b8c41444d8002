package model

import "time"

// ModemStatus is one modem as the core reports it to its callers (the API's
// GET /api/v1/modems, /metrics, the UI).
type ModemStatus struct {
	Name         string
	Device       string
	IMEI         string
	Model        string
	IMSI         string
	ICCID        string
	Number       string
	Operator     string
	SignalDBm    int
	SignalBars   int
	Registration string
	Registered   bool
	State        string
	// Leased is true while the dispatcher holds the modem to send parts.
	Leased bool
	// SendMode is how the modem sends: "store_and_send" (+CMGW then +CMSS:
	// a send cut short by a crash or an unplug is settled from the stored
	// copy) or "direct" (+CMGS: such a send's outcome is unknown); "" until
	// the modem was initialised.
	SendMode string
	// DirectFallbacks counts, by reason ("storage_full", "refused",
	// "not_storing"), the parts claimed for store-and-send that this
	// process sent with +CMGS instead: a crash during one of those sends
	// leaves its outcome unknown.
	DirectFallbacks map[string]int
	LastError       string
	UpdatedAt       time.Time
	// Manufacturer is the maker as the modem names itself.
	Manufacturer string
	// SIM is the SIM's state as +CPIN gives it ("READY", "SIM PIN",
	// "NOT INSERTED"...; "" when not read).
	SIM string
	// SMSC is the service centre the SIM names ("" when missing).
	SMSC string
	// Since is when the modem entered State.
	Since time.Time
}

// SignalSample is one reading of a modem's signal, kept for the 24-hour
// chart. DBm is 0 when the modem did not know (no network).
type SignalSample struct {
	At   time.Time `json:"at"`
	DBm  int       `json:"dbm,omitempty"`
	Bars int       `json:"bars"`
}

// DailyCounts are one modem's messages of one day (UTC).
type DailyCounts struct {
	// Day is "YYYY-MM-DD".
	Day       string `json:"day"`
	Sent      int    `json:"sent,omitempty"`
	Delivered int    `json:"delivered,omitempty"`
	Failed    int    `json:"failed,omitempty"`
	Received  int    `json:"received,omitempty"`
}
