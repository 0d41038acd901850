package store

import (
	"strings"
	"testing"

	"pbxbill/rating"
)

func TestEnsureAdminCreatesOnceWithRandomPassword(t *testing.T) {
	s := MustOpen(t)
	if ok := must[bool](t)(s.HasAdmin()); ok {
		t.Fatal("a new database has an admin user")
	}
	pw := must[string](t)(s.EnsureAdmin())
	if len(pw) < MinPasswordLen {
		t.Fatalf("first password %q is shorter than %d", pw, MinPasswordLen)
	}
	if err := s.CheckAdminPassword(AdminUser, pw); err != nil {
		t.Fatalf("the printed password does not log in: %v", err)
	}
	// A second start must not print, nor change, a password.
	if again := must[string](t)(s.EnsureAdmin()); again != "" {
		t.Fatalf("second EnsureAdmin returned a password %q", again)
	}
	s = reopen(t, s)
	if err := s.CheckAdminPassword(AdminUser, pw); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestCheckAdminPasswordRefusesWrongOnes(t *testing.T) {
	s := MustOpen(t)
	if err := s.SetAdminPassword(AdminUser, "Docs Demo secret"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, pw string }{
		{AdminUser, "Docs Demo secreT"},
		{AdminUser, ""},
		{"root", "Docs Demo secret"},
	} {
		err := s.CheckAdminPassword(c.user, c.pw)
		wantCode(t, err, rating.EUnauthorized, "wrong user name or password")
	}
	if err := s.CheckAdminPassword(AdminUser, "Docs Demo secret"); err != nil {
		t.Fatal(err)
	}
}

func TestSetAdminPasswordRules(t *testing.T) {
	s := MustOpen(t)
	wantCode(t, s.SetAdminPassword(AdminUser, "short"), rating.EInvalid, "at least 8")
	wantCode(t, s.SetAdminPassword(AdminUser, strings.Repeat("x", 73)), rating.EInvalid, "at most 72")
	wantCode(t, s.SetAdminPassword("", "long enough"), rating.EInvalid, "user")
}

func TestSetAdminPasswordResetsSessions(t *testing.T) {
	s := MustOpen(t)
	if err := s.SetAdminPassword(AdminUser, "first password"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateSession(AdminUser, time1h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(tok); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdminPassword(AdminUser, "second password"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(tok)
	wantCode(t, err, rating.EUnauthorized)
	wantCode(t, s.CheckAdminPassword(AdminUser, "first password"), rating.EUnauthorized)
}
