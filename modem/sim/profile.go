package sim

import (
	"fmt"
	"sort"
	"strings"
)

// profile is what differs between modem families. The package doc says
// where each behaviour was seen.
type profile struct {
	name           string
	manufacturer   string
	model          string
	revision       string
	ati            func(m *Modem) []string
	unknownCommand string // the final line for an unknown command
	quotedNumber   bool   // text-mode +CMGS/+CMGW need the number in quotes
	noCMMS         bool   // +CMMS answers +CMS ERROR: 500
	cnmiRanges     [5][]int
	cnmiTest       string
	cnmiError      int // +CMS ERROR code for a +CNMI value outside the ranges
	defaultCSCS    string
	boot           []string // URCs after power-up and after +CFUN=1,1
	afterPIN       []string // URCs once the SIM is unlocked
	ccid           string   // the prefix of the +CCID answer ("" for a bare ICCID)
	flood          bool     // periodic ^RSSI/^BOOT/^MODE
}

func rng(a, b int) []int {
	var r []int
	for i := a; i <= b; i++ {
		r = append(r, i)
	}
	return r
}

var profiles = map[string]*profile{
	"generic": {
		name: "generic", manufacturer: "gsmgate", model: "Virtual GSM modem", revision: "gsmgate-sim 1.0",
		ati: func(m *Modem) []string {
			return []string{"Manufacturer: gsmgate", "Model: Virtual GSM modem", "Revision: gsmgate-sim 1.0", "IMEI: " + m.opts.IMEI, "+GCAP: +CGSM"}
		},
		unknownCommand: "ERROR",
		cnmiRanges:     [5][]int{rng(0, 3), rng(0, 3), {0, 2}, rng(0, 2), {0, 1}},
		cnmiTest:       "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)",
		cnmiError:      cmsOpNotSupported,
		defaultCSCS:    "IRA",
		ccid:           "+CCID: ",
	},
	"sim800": {
		name: "sim800", manufacturer: "SIMCOM_Ltd", model: "SIMCOM_SIM800L", revision: "Revision:1418B04SIM800L24",
		ati:            func(*Modem) []string { return []string{"SIM800 R14.18"} },
		unknownCommand: "ERROR",
		quotedNumber:   true,
		cnmiRanges:     [5][]int{rng(0, 3), rng(0, 3), rng(0, 3), rng(0, 2), {0, 1}},
		cnmiTest:       "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)",
		cnmiError:      cmsOpNotSupported,
		defaultCSCS:    "IRA",
		boot:           []string{"RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"},
		ccid:           "",
	},
	"huawei": {
		name: "huawei", manufacturer: "huawei", model: "E173", revision: "11.126.85.00.209",
		ati: func(m *Modem) []string {
			return []string{"Manufacturer: huawei", "Model: E173", "Revision: 11.126.85.00.209", "IMEI: " + m.opts.IMEI, "+GCAP: +CGSM,+DS,+ES"}
		},
		unknownCommand: "COMMAND NOT SUPPORT",
		noCMMS:         true,
		cnmiRanges:     [5][]int{rng(0, 2), rng(0, 3), {0, 2}, rng(0, 2), {0, 1}},
		cnmiTest:       "+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)",
		cnmiError:      cmsOpNotSupported,
		defaultCSCS:    "IRA",
		boot:           []string{"^BOOT:20392698,0,0,0,72", "^SRVST: 2", "^SIMST: 1", "^MODE:5,4"},
		ccid:           "+CCID: ",
		flood:          true,
	},
	"quectel": {
		name: "quectel", manufacturer: "Quectel", model: "EC25", revision: "EC25EFAR06A03M4G",
		ati:            func(*Modem) []string { return []string{"Quectel", "EC25", "Revision: EC25EFAR06A03M4G"} },
		unknownCommand: "ERROR",
		cnmiRanges:     [5][]int{rng(0, 2), rng(0, 3), {0, 2}, rng(0, 2), {0, 1}},
		cnmiTest:       "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
		cnmiError:      cmsUnknown,
		defaultCSCS:    "GSM",
		boot:           []string{"RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1"},
		afterPIN:       []string{"+QIND: SMS DONE", "+QIND: PB DONE"},
		ccid:           "+CCID: ",
	},
}

// Profiles lists the profile names ModemOptions.Profile accepts.
func Profiles() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookupProfile(name string) (*profile, error) {
	if name == "" {
		name = "generic"
	}
	p, ok := profiles[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("sim: unknown profile %q (have %s)", name, strings.Join(Profiles(), ", "))
	}
	return p, nil
}
