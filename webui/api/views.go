package api

import (
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// The API's JSON shapes for what the core returns, built here so that the
// storage encoding (gateway/model's tags) and the API can change apart.

// ConversationView is one row of GET /api/v1/conversations.
type ConversationView struct {
	Number        string          `json:"number"`
	Count         int             `json:"count"`
	LastMessageID model.ID        `json:"last_message_id"`
	LastAt        time.Time       `json:"last_at"`
	LastText      string          `json:"last_text,omitempty"`
	LastDirection model.Direction `json:"last_direction,omitempty"`
	// Unread is how many of the viewer's notifications (incoming messages
	// not yet seen) are about this number.
	Unread  int          `json:"unread"`
	Contact *ContactView `json:"contact,omitempty"`
}

func viewConversation(c model.Conversation) ConversationView {
	v := ConversationView{Number: c.Number, Count: c.Count, LastMessageID: c.Last.ID, LastAt: c.SortAt,
		LastText: c.Last.Text, LastDirection: c.Last.Direction, Unread: c.Unread}
	if c.Contact != nil {
		cv := viewContact(*c.Contact)
		v.Contact = &cv
	}
	return v
}

// ContactView is a contact card as the API shows it; the CRM reference is
// "ref", as PUT takes it.
type ContactView struct {
	Number    string            `json:"number"`
	Name      string            `json:"name,omitempty"`
	FirstName string            `json:"first_name,omitempty"`
	JobTitle  string            `json:"job_title,omitempty"`
	Company   string            `json:"company,omitempty"`
	Email     string            `json:"email,omitempty"`
	Phones    []PhoneView       `json:"phones,omitempty"`
	CRMURL    string            `json:"crm_url,omitempty"`
	Ref       *model.CRMRef     `json:"ref,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
}

type PhoneView struct {
	Number string `json:"number"`
	Label  string `json:"label,omitempty"`
}

func viewContact(c model.Contact) ContactView {
	v := ContactView{Number: c.Number, Name: c.Name, FirstName: c.FirstName, JobTitle: c.JobTitle, Company: c.Company,
		Email: c.Email, CRMURL: c.CRMURL, Ref: c.CRM, Tags: c.Tags, Fields: c.Fields, UpdatedAt: c.UpdatedAt}
	for _, p := range c.Phones {
		v.Phones = append(v.Phones, PhoneView(p))
	}
	return v
}

// ModemView is one modem as GET /api/v1/modems shows it.
type ModemView struct {
	Name         string `json:"name"`
	Device       string `json:"device,omitempty"`
	IMEI         string `json:"imei,omitempty"`
	Model        string `json:"model,omitempty"`
	IMSI         string `json:"imsi,omitempty"`
	ICCID        string `json:"iccid,omitempty"`
	Number       string `json:"number,omitempty"`
	Operator     string `json:"operator,omitempty"`
	SignalDBm    int    `json:"signal_dbm,omitempty"`
	SignalBars   int    `json:"signal_bars"`
	Registration string `json:"registration"`
	Registered   bool   `json:"registered"`
	State        string `json:"state"`
	Leased       bool   `json:"leased"`
	SendMode     string `json:"send_mode,omitempty"`
	// DirectFallbacks: see model.ModemStatus.
	DirectFallbacks map[string]int `json:"direct_fallbacks,omitempty"`
	LastError       string         `json:"last_error,omitempty"`
	UpdatedAt       time.Time      `json:"updated_at,omitzero"`
	Manufacturer    string         `json:"manufacturer,omitempty"`
	SIM             string         `json:"sim,omitempty"`
	SMSC            string         `json:"smsc,omitempty"`
	Since           time.Time      `json:"since,omitzero"`
}
