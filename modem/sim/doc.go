// Package sim is a virtual GSM modem and the network behind it, for tests,
// demos and `gsmgate sim`. It owns the AT command interpreter (TS 27.007 and
// TS 27.005 as real modems answer them), serving it on a pseudo-terminal or
// raw TCP, the modem's SIM, settings and message storages, and a simulated
// network that accepts SMS-SUBMITs, delivers SMS-DELIVERs and produces status
// reports. It never talks to real hardware and keeps no package-level state.
//
// PROFILES is filled in below.
package sim
