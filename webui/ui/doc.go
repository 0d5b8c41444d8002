// Package ui will hold the staff and admin web UI that webui mounts beside
// /api/v1: html/template pages on one shared layout, a small file per page
// or action (parse the request, call the core, render; forms POST and
// redirect), the static files embedded with //go:embed under URLs that carry
// their checksum, and sign-in with a session cookie that becomes an
// httpkit.Principal like an API token does.
//
// Like the other web packages it imports the core (gateway, gateway/model)
// and webui/httpkit only, never gateway/store or a modem package, and takes
// its live updates from gateway.Service.Subscribe(viewer).
//
// It is empty for now: the UI is being built on this layout.
package ui
