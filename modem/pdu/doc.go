// Package pdu owns the SMS transfer-layer codec of 3GPP TS 23.040 and the
// alphabets of TS 23.038: decoding and encoding TPDUs (SMS-SUBMIT,
// SMS-DELIVER, SMS-STATUS-REPORT; decoding of SMS-SUBMIT-REPORT,
// SMS-DELIVER-REPORT and SMS-COMMAND), addresses, time stamps, validity
// periods, data coding schemes, the user data header, the GSM 7-bit default
// alphabet with its extension and national shift tables, UCS-2 with surrogate
// pairs, segmentation of long texts, the segment counter shown to users and
// the reassembly of concatenated messages.
//
// It never does I/O, keeps no package-level mutable state, and everything in
// it is safe for concurrent use (a Collector is safe for concurrent use by its
// own lock). Talking to a modem is modem/at's job; storing parts is the
// gateway's.
package pdu
