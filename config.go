package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"pbxbill/rating"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// config is the installation's settings: flags, with PBXBILL_* environment
// variables as fallbacks.
type config struct {
	Listen, DB, TZ, Currency string
	MaxCallDuration          int
	HoldSlack                time.Duration // how long past its grant a hold waits for its CDR
	IntlPrefixes             []string
	APIToken                 string
	RatingRequiresToken      bool
	AdminPassword            string
	Hosts                    []string // extra names the admin may be reached by
	PublicURL                string   // where PBX nodes reach this server, for the admin's snippets
	Demo                     bool
	LogFormat                string // console or json
	LogLevel                 zerolog.Level
	followConfig
	alertConfig
}

// envName is the environment variable of a flag: -max-call-duration is
// PBXBILL_MAX_CALL_DURATION.
func envName(flagName string) string {
	return "PBXBILL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads the flags in args, then fills every flag that args
// left out from its environment variable, so a flag given on the command
// line wins over the environment and both win over the default. An empty
// variable counts as unset. Errors name the flag or the variable they
// came from.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	var intl, level, hosts string
	fs := flag.NewFlagSet("pbxbill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "`address` to serve HTTP on; port 0 picks a free port")
	fs.StringVar(&c.DB, "db", "pbxbill.db", "`path` of the database file, created if missing; or postgres://user:pass@host/dbname to share one PostgreSQL database between nodes")
	fs.StringVar(&c.TZ, "tz", "UTC", "IANA time `zone` of the installation's days, fixed when the database is created")
	fs.StringVar(&c.Currency, "currency", "EUR", "ISO 4217 `code` of every price, fixed when the database is created")
	fs.IntVar(&c.MaxCallDuration, "max-call-duration", rating.DefaultMaxCallDuration, "longest call an authorization allows, in `seconds`")
	fs.DurationVar(&c.HoldSlack, "hold-slack", rating.DefaultHoldSlack, "how long past its grant a call's hold waits for its CDR (`duration`, e.g. 300s)")
	fs.StringVar(&intl, "intl-prefixes", "", "international access `prefixes` removed from numbers, e.g. 00,011")
	fs.StringVar(&c.APIToken, "api-token", "", "bootstrap API `token`; empty disables it")
	fs.BoolVar(&c.RatingRequiresToken, "rating-requires-token", false, "require a token for rating requests from loopback too")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "set or reset the admin user's `password` at start")
	fs.StringVar(&hosts, "hosts", "", "other host `names` the browser admin is reached by, comma-separated (localhost and the listen address always work)")
	fs.StringVar(&c.PublicURL, "public-url", "", "the `URL` PBX nodes reach this server at, shown in the admin's snippets (default: the listen address)")
	fs.BoolVar(&c.Demo, "demo", false, "seed the Docs Demo records into an empty database")
	fs.StringVar(&c.LogFormat, "log-format", "", "`console` or json (default console on a terminal, json otherwise)")
	fs.StringVar(&level, "log-level", "info", "`level`: debug, info, warn or error")
	validateFollow := followFlags(fs, &c.followConfig)
	validateAlerts := alertFlags(fs, &c.alertConfig)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: pbxbill [flags]\n       pbxbill check [-db FILE|URL] [-tz ZONE] [-currency CODE]\n       pbxbill migrate -from FILE -to postgres://user:pass@host/dbname\n\nEvery flag can also be set by its environment variable, PBXBILL_ and the\nflag name in upper case with - as _, e.g. PBXBILL_MAX_CALL_DURATION.\nA flag on the command line wins.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, rating.Errorf(rating.EInvalid, "unexpected argument %q: every setting is a -flag", fs.Arg(0))
	}

	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && !set[f.Name] {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, rating.Errorf(rating.EInvalid, "%s %q: not a valid value for -%s", envName(f.Name), v, f.Name))
			}
		}
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// bad names the flag, or its variable when the value came from there.
	bad := func(name, value, want string) error {
		from := "-" + name
		if !set[name] && getenv(envName(name)) != "" {
			from = envName(name)
		}
		return rating.Errorf(rating.EInvalid, "%s %q: %s", from, value, want)
	}
	if c.Listen == "" {
		return nil, bad("listen", c.Listen, "want host:port, e.g. 127.0.0.1:8080")
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Hosts = append(c.Hosts, h)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, bad("public-url", c.PublicURL, "want http:// or https:// and a host, e.g. https://billing.example.net")
		}
		c.PublicURL = strings.TrimRight(u.String(), "/")
	}
	if c.DB == "" {
		return nil, bad("db", c.DB, "want the path of the database file")
	}
	if _, err := time.LoadLocation(c.TZ); err != nil || c.TZ == "" || c.TZ == "Local" {
		return nil, bad("tz", c.TZ, "want an IANA time zone such as UTC or Europe/London")
	}
	if !isCurrency(c.Currency) {
		return nil, bad("currency", c.Currency, "want three upper-case letters, e.g. EUR")
	}
	if c.MaxCallDuration <= 0 {
		return nil, bad("max-call-duration", fmt.Sprint(c.MaxCallDuration), "want a number of seconds above 0")
	}
	if c.HoldSlack < time.Second || c.HoldSlack > 24*time.Hour {
		return nil, bad("hold-slack", c.HoldSlack.String(), "want a duration from 1s to 24h, e.g. 300s")
	}
	p, err := rating.ParseIntlPrefixes(intl)
	if err != nil {
		return nil, bad("intl-prefixes", intl, "want comma-separated digit prefixes, e.g. 00,011")
	}
	c.IntlPrefixes = p
	switch c.LogFormat {
	case "":
		c.LogFormat = "json"
		if isTerminal(stderr) {
			c.LogFormat = "console"
		}
	case "console", "json":
	default:
		return nil, bad("log-format", c.LogFormat, "want console or json")
	}
	c.LogLevel, err = zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" || c.LogLevel > zerolog.ErrorLevel {
		return nil, bad("log-level", level, "want debug, info, warn or error")
	}
	if err := validateFollow(bad); err != nil {
		return nil, err
	}
	if err := validateAlerts(bad); err != nil {
		return nil, err
	}
	return c, nil
}

// isCurrency accepts an ISO 4217 shaped code: three upper-case letters.
func isCurrency(s string) bool {
	return len(s) == 3 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}
