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
	Leased    bool
	LastError string
	UpdatedAt time.Time
}
