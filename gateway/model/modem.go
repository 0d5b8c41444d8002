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
	SendMode  string
	LastError string
	UpdatedAt time.Time
}
