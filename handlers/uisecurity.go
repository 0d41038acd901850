package handlers

import (
	"net"
	"net/http"
	"strings"

	"pbxbill/rating"
)

// Browser-facing protections, applied to every request before routing.
//
// The Host check defeats DNS rebinding: a page on evil.example whose name
// is re-pointed at 127.0.0.1 reaches this server from the victim's own
// browser, but its requests still say Host: evil.example. So a request is
// served only when its Host names this machine: localhost, a loopback
// address, the address the connection came in on (which is the listen
// address, or for a wildcard listen the interface used), or a name in
// Config.Hosts. An API call with a bearer token is exempt (bearerAPI).
//
// Cross-site request forgery is stopped by http.CrossOriginProtection: a
// state-changing request that a browser marks as cross-site (Sec-Fetch-Site,
// or an Origin whose host is not the Host) is refused. Requests from curl
// and PBX nodes carry neither header and pass; they authenticate with a
// bearer token, which a forged request cannot carry.

// cspPolicy allows only this server's own files: no inline script, no
// inline style attributes, no frames, no form posts elsewhere.
const cspPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// guard wraps the router with the Host check, the cross-origin check and,
// for the browser pages, the security headers. The rating fast path pays
// one string comparison or two for the Host and a method switch for the
// cross-origin check.
func (s *server) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.guardError(w, r, rating.Errorf(rating.EForbidden,
			"cross-site request refused: a form of pbxbill must be sent from pbxbill's own pages"))
	}))
	// The usual loopback spellings are in the map, so the rating calls of
	// a dialplan on this box cost one lookup.
	hosts := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, h := range s.Hosts {
		hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowedHost(r, hosts) && !bearerAPI(r) {
			s.guardError(w, r, rating.Errorf(rating.EForbidden,
				"host %s is not this server: use localhost, its address, or a configured host name", rating.Excerpt(r.Host)))
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			secureHeaders(w.Header())
		}
		protected.ServeHTTP(w, r)
	})
}

// bearerAPI reports an API call that carries its own credentials. A
// rebinding page cannot know a token, and the API ignores the session
// cookie when a token is sent, so the Host check adds nothing there; and
// a PBX node may well call this server by a DNS name nobody configured.
func bearerAPI(r *http.Request) bool {
	return r.Header["Authorization"] != nil && strings.HasPrefix(r.URL.Path, "/api/")
}

// secureHeaders sets the headers that keep a page from being framed,
// scripted from elsewhere, or leaking its address to other sites.
func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", cspPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}

// allowedHost reports whether r's Host names this machine.
func allowedHost(r *http.Request, names map[string]bool) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return true // HTTP/1.0 without Host: nothing a browser sends
	}
	if names[host] || names[strings.ToLower(host)] {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	// The address the client connected to is this machine by definition;
	// a rebinding page can only ever name a host, not this address.
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := la.(*net.TCPAddr); ok && tcp.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// guardError answers a refused request: an HTML page for a browser page,
// the JSON error of API.md for the API.
func (s *server) guardError(w http.ResponseWriter, r *http.Request, err error) {
	if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" {
		s.error(w, r, err)
		return
	}
	secureHeaders(w.Header())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(rating.ErrorMessage(err) + "\n"))
}
