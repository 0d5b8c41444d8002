// Package sim is a virtual GSM modem and the network behind it, for tests,
// demos and `gsmgate sim`. It owns the AT command interpreter (TS 27.007 and
// TS 27.005 as real modems answer them), serving it on a pseudo-terminal or
// raw TCP, the modem's SIM, settings and message storages, and a simulated
// network that accepts SMS-SUBMITs, delivers SMS-DELIVERs and produces
// status reports. It never talks to real hardware, never writes outside the
// paths it is given (a pty link) and keeps no package-level mutable state.
//
// # Using it from a test
//
//	clock := sim.NewFakeClock(time.Now())
//	net := sim.NewNetwork(sim.NetworkOptions{Clock: clock})
//	m, _ := net.AddModem(sim.ModemOptions{Profile: "huawei", PIN: "1234"})
//	path, _ := m.ServePTY(ctx)          // open path like /dev/ttyUSB2
//	addr, _ := m.ServeTCP(ctx, "127.0.0.1:0") // or like ser2net
//	net.Inbound(m, sim.InboundSMS{From: "+447700900999", Text: "hi", Order: []int{2, 1}})
//	net.SetReportOutcome(sim.ReportOutcome{Kind: sim.TemporaryThenDelivered, Delay: time.Minute})
//	net.Advance(time.Minute)            // status reports fall due
//	m.SetFaults(sim.Faults{SendErrors: []int{38}, SendTimeouts: 1})
//	m.Unplug(); path, _ = m.Replug(ctx) // a new /dev/pts/N; storage and IMEI kept
//	parts := net.Sent()
//
// # What the modem does
//
// Echo is on after power-up, ATZ, AT&F, AT+CFUN=1,1 and a replug, and covers
// what is typed after the "> " prompt too, PDU or text: TS 27.005 §3.5.1
// and §4.3 put that echo under ATE like a command line (gammu's log of a
// modem in gammu/gammu#89 reads "> 0791246030..." after AT+CMGS=134, a USB
// 3G modem's transcript in awangga/spy's README "> 0891...", and Telit's
// GM862 manual says so; drivers send ATE0 first). The PDU-mode headers are
// those of a Huawei E3131 in gammu/gammu#333 ("+CMGL: 0,3,,18"). Errors read ERROR, +CME ERROR:
// n or +CMS ERROR: n, or their verbose text, per +CMEE. Commands that need
// the SIM answer +CME/+CMS ERROR 10/310 (no SIM), 11/311 (PIN), 12/316
// (PUK); three wrong PINs lead to PUK, ten wrong PUKs block the SIM. A send
// without network is +CMS ERROR: 331; one whose PDU names no service centre
// while none is set (ModemOptions.NoSMSC, as some SIMs come) is +CMS ERROR: 330. The message reference of +CMGS runs
// 0..255 and wraps. Messages are stored in "SM" or "ME" (+CPMS; only "SM"
// with ModemOptions.OneStorage) and
// announced per +CNMI: +CMTI, or +CMT routed without storing (+CNMA
// expected after +CSMS=1), status reports as +CDS or stored and announced
// with +CDSI; +CNMI mode 0 buffers the codes until a mode 1-3 with bfr 0. A
// full storage takes nothing and announces nothing: the network keeps the
// message and delivers it once a +CMGD frees a slot (as after an SMMA), or
// after a replug, PIN entry or +CFUN=1. While a command runs (including the
// time between the "> " prompt and the answer), codes wait and follow the
// answer. +CMSS, +CMGW, +CMGR, +CMGL (stat 0-4 in PDU mode, "ALL" etc. in
// text mode) and +CMGD with delete flags 0-4 work on mem1/mem2 of +CPMS.
// Text mode (+CMGF=1, +CSMP, +CSCS "GSM"/"IRA"/"UCS2") covers +CMGS, +CMGW,
// +CMGL and +CMGR of plain text. A +CMGW to a full mem2 is +CMS ERROR: 322
// (Faults.FullWrites forces it); Network.Sent says which command sent each
// part (SentPart.Via: +CMGS or +CMSS).
//
// The network reads each SMS-SUBMIT with modem/pdu (a PDU it cannot read is
// +CMS ERROR: 304). A message to another virtual modem's OwnNumber is
// delivered to it. The sim builds SMS-DELIVER and SMS-STATUS-REPORT TPDUs
// with its own small encoder (codec.go), kept apart from modem/pdu so that
// a test comparing the two catches a mistake either makes.
//
// # Profiles
//
// generic: what TS 27.005 describes, with the answers of common modems;
// unknown commands get ERROR, the prompt is "\r\n> " (§3.5.1; gammu accepts
// nothing else: gammu/gammu#1176), an out-of-range +CNMI is +CMS ERROR: 303.
// With any profile, ModemOptions.BarePrompt sends ">" and CRLF instead, as
// the SIMCom SIM7670G of that gammu issue does.
//
// sim800 (SIMCom SIM800L): "RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready",
// "SMS Ready" after power-up (seen on a SIM800L in
// Seeed-Studio/GPRS_SIM900#39, where commands fail until "SMS Ready"); ATI
// answers "SIM800 R14.18"; +CCID answers the bare ICCID; a text-mode
// +CMGS/+CMGW needs the number quoted (AT+CMGS=+44... is ERROR; "string
// should be included in quotation marks" in SIMCom's SIM800 Series AT
// Command Manual V1.09, §4.2.5-4.2.6). Its prompt is the "\r\n> " of every
// profile, the four characters TS 27.005 and the Telit and Quectel manuals
// give; no transcript we found shows a SIM800 sending another.
//
// huawei (E173/E1752 sticks): unsolicited ^RSSI, ^BOOT and ^MODE codes every
// FloodInterval (2s by default; a real E3372 sent ^RSSI every 10s in
// gammu/gammu#111) until AT^CURC=0; "COMMAND NOT SUPPORT" for unknown
// commands (AT+CPROT=?, AT+SYNCML=?, AT$TSSPCSW=? in gammu/gammu#138 on an
// E1752); +CMS ERROR: 500 for the AT+CMMS=2 gammu sends before an SMS
// (same issue); AT^PORTSEL, which gammu's Huawei support sets after ^CURC=0;
// AT^ICCID?; boot codes ^BOOT, ^SRVST, ^SIMST, ^MODE.
//
// quectel (EC25): "RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1" after
// power-up and "+QIND: SMS DONE", "+QIND: PB DONE" once the SIM is unlocked;
// +CNMI=? is (0-2),(0-3),(0,2),(0-2),(0,1) and a value outside it (mode 3)
// is +CMS ERROR: 500, the catch-all Quectel modules give (a Quectel M26's
// "CMS Error: unknown" in warthog618/modem#17; +CMS ERROR: 500 in
// gammu/gammu#438); AT+QCCID; the default character set is "GSM".
//
// ModemOptions.ReportsToSR adds a later EC25/EG25 firmware bug: with +CNMI
// <ds>=2 status reports go to an "SR" storage but are announced as
// +CDSI: "SM",0, whose +CMGR answers a bare OK
// (IchthysMaranatha/asterisk-chan-quectel#75). It is off by default.
//
// # Faults
//
// Faults (Modem.SetFaults) answer the next sends with +CMS ERROR codes
// (TemporaryCMS and PermanentCMS list realistic ones, with their meaning in
// TS 24.011 and TS 27.005), swallow a send's answer (the network still got
// it: SentPart.TimedOut), stretch its latency, or put line noise before the
// next answers. Modem.Hang stops all answers, that of a command already
// running included; Modem.Unplug closes the pty and TCP clients as a USB
// unplug does, ending a send in progress at once (the network never gets
// it); Modem.InjectGarbage writes bytes now. The SIM's PIN tries and PUK
// state survive resets and replugs, as they live on the card.
package sim
