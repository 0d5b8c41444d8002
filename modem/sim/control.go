package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// ControlHandler is the JSON-over-HTTP control endpoint of `gsmgate sim`,
// driving one modem of the network:
//
//	POST /inbound  {"from", "text", "ucs2", "order", "drop", "duplicate"} -> {"parts": n}
//	GET  /sent     -> [{"mr", "to", "text", "pdu", "time", ...}, ...]
//	POST /faults   {"send_errors": [27], "send_timeouts": 1, "latency_ms": 3000,
//	                "garbage": 1, "hang": true, "unplug": true, "replug": true} -> {"pty": path}
//	               (a field left out keeps its fault)
//	POST /reports  {"outcome": "delivered"|"temporary"|"permanent"|"none", "delay_ms": 5000, "status": 65}
//	GET  /modem    -> {"imei", "profile", "pty", "stored", "held"}
//
// ctx bounds the pty a replug opens. It is meant for loopback only: it has
// no authentication.
func (n *Network) ControlHandler(ctx context.Context, m *Modem) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /inbound", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			From      string `json:"from"`
			Text      string `json:"text"`
			UCS2      bool   `json:"ucs2"`
			Order     []int  `json:"order"`
			Drop      []int  `json:"drop"`
			Duplicate []int  `json:"duplicate"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		parts, err := n.Inbound(m, InboundSMS{From: req.From, Text: req.Text, UCS2: req.UCS2, Order: req.Order, Drop: req.Drop, Duplicate: req.Duplicate})
		if err != nil {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, map[string]int{"parts": parts})
	})
	mux.HandleFunc("GET /sent", func(w http.ResponseWriter, _ *http.Request) {
		sent := n.Sent()
		if sent == nil {
			sent = []SentPart{}
		}
		writeJSON(w, sent)
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		// A field left out keeps its fault: {"unplug": true} does not
		// forget the send errors set before it.
		var req struct {
			SendErrors   *[]int `json:"send_errors"`
			SendTimeouts *int   `json:"send_timeouts"`
			LatencyMS    *int   `json:"latency_ms"`
			Garbage      *int   `json:"garbage"`
			Hang         *bool  `json:"hang"`
			Unplug       bool   `json:"unplug"`
			Replug       bool   `json:"replug"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		if req.SendErrors != nil {
			for _, c := range *req.SendErrors {
				if c < 1 || c > 511 {
					jsonError(w, http.StatusBadRequest, fmt.Sprintf("send_errors: %d is not a +CMS ERROR code", c))
					return
				}
			}
		}
		for name, v := range map[string]*int{"send_timeouts": req.SendTimeouts, "latency_ms": req.LatencyMS, "garbage": req.Garbage} {
			if v != nil && *v < 0 {
				jsonError(w, http.StatusBadRequest, name+": must not be negative")
				return
			}
		}
		m.mu.Lock() // one change: a send between reading and setting would be undone
		f := &m.faults
		if req.SendErrors != nil {
			f.SendErrors = append([]int(nil), *req.SendErrors...)
		}
		if req.SendTimeouts != nil {
			f.SendTimeouts = *req.SendTimeouts
		}
		if req.LatencyMS != nil {
			f.Latency = time.Duration(*req.LatencyMS) * time.Millisecond
		}
		if req.Garbage != nil {
			f.Garbage = *req.Garbage
		}
		m.mu.Unlock()
		if req.Hang != nil {
			m.Hang(*req.Hang)
		}
		if req.Unplug {
			m.Unplug()
		}
		resp := map[string]string{"pty": m.PTYPath()}
		if req.Replug {
			path, err := m.Replug(ctx)
			if err != nil {
				jsonError(w, http.StatusConflict, err.Error())
				return
			}
			resp["pty"] = path
		}
		writeJSON(w, resp)
	})
	mux.HandleFunc("POST /reports", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Outcome string `json:"outcome"`
			DelayMS int    `json:"delay_ms"`
			Status  byte   `json:"status"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		kinds := map[string]ReportKind{"delivered": Delivered, "temporary": TemporaryThenDelivered, "permanent": PermanentFailure, "none": NoReport}
		k, found := kinds[req.Outcome]
		if !found {
			jsonError(w, http.StatusBadRequest, "outcome: want delivered, temporary, permanent or none")
			return
		}
		n.SetReportOutcome(ReportOutcome{Kind: k, Delay: time.Duration(req.DelayMS) * time.Millisecond, Status: req.Status})
		writeJSON(w, map[string]string{"outcome": req.Outcome})
	})
	mux.HandleFunc("GET /modem", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"imei": m.IMEI(), "profile": m.opts.Profile, "pty": m.PTYPath(),
			"stored": len(m.Stored()), "held": m.Held()})
	})
	return mux
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		jsonError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "bad_request", "message": msg}})
}
