package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/platform/admin"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Command is the root of the paotui CLI.
func Command() *cobra.Command {
	var cfgFile string
	root := &cobra.Command{
		Use:   "paotui",
		Short: "Paotui (跑腿): campus errand running for many campus teams",
		Long: "One binary for every role of Paotui. Configuration: the embedded configs/paotui.yaml, " +
			"then --config FILE, then PAOTUI_* environment variables (e.g. PAOTUI_DATABASE_URL).",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&cfgFile, "config", "", "YAML file layered over the built-in defaults")
	env := &cliEnv{cfgFile: &cfgFile}
	root.AddCommand(serveCmd(env), workerCmd(env), migrateCmd(env), tenantCmd(env), adminCmd(env), demoCmd(env), ledgerCmd(env), openapiCmd())
	return root
}

// cliEnv loads config and services lazily, so --help works without a database.
type cliEnv struct {
	cfgFile *string
}

func (e *cliEnv) config() (*config.Config, error) { return config.LoadFromOS(*e.cfgFile) }

// withApp adapts a command that needs the running services: it connects, runs fn and closes.
func (e *cliEnv) withApp(fn func(cmd *cobra.Command, args []string, a *App) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := e.app(cmd.Context())
		if err != nil {
			return err
		}
		defer a.Close()
		return fn(cmd, args, a)
	}
}

func (e *cliEnv) app(ctx context.Context) (*App, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, NewLogger(cfg.Log))
}

func serveCmd(env *cliEnv) *cobra.Command {
	var worker bool
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API, event streams and web apps",
		Long:  "Serve the HTTP API on http.addr. With --worker the background worker, outbox relay and scheduler run in the same process (the development default).",
		Args:  cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.Serve(cmd.Context(), worker)
		}),
	}
	c.Flags().BoolVar(&worker, "worker", false, "also run the worker, outbox relay and scheduler in this process")
	return c
}

func workerCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run background jobs, the outbox relay and the periodic scheduler",
		Args:  cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.RunWorker(cmd.Context())
		}),
	}
}

func migrateCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply control-plane migrations, then tenant migrations to every tenant schema",
		Long: "Apply migrations/platform to the public schema, then migrations/tenant to every tenant schema with " +
			"bounded concurrency (migrate.concurrency). A failing tenant is reported and left at its last good " +
			"version; the others carry on. Exits non-zero if any tenant failed.",
		Args: cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.MigrateAll(cmd.Context(), cmd.OutOrStdout())
		}),
	}
	c.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show the control plane's and each tenant's schema version, and which tenants lag",
		Args:  cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.MigrateStatus(cmd.Context(), cmd.OutOrStdout())
		}),
	})
	return c
}

func tenantCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{Use: "tenant", Short: "Create, list, suspend and resume tenants"}
	var req provision.Request
	var wait time.Duration
	var inline bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Register a tenant and provision it (schema, migrations, blueprint, owner)",
		Long: "Register a tenant and enqueue its provisioning job. With --wait the command waits until the tenant " +
			"is active; with --inline (default) it also runs the provisioning job itself, the same idempotent job " +
			"a worker runs, so it works without a worker. An existing tenant is left as it is (exit 0); one " +
			"still provisioning is resumed.",
		Args: cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.CreateTenant(cmd.Context(), cmd.OutOrStdout(), req, wait, inline)
		}),
	}
	create.Flags().StringVar(&req.Slug, "slug", "", "subdomain: 3-30 lowercase letters, digits, hyphens (required)")
	create.Flags().StringVar(&req.Name, "name", "", "team / service display name (required)")
	create.Flags().StringVar(&req.OwnerPhone, "owner-phone", "", "owner's mobile number; they sign in with an SMS code (required)")
	create.Flags().StringVar(&req.OwnerName, "owner-name", "", "owner's name")
	create.Flags().StringVar(&req.Blueprint, "blueprint", "default", "blueprint under tenants/ to start from")
	create.Flags().DurationVar(&wait, "wait", 2*time.Minute, "wait this long for the tenant to become active (0: do not wait)")
	create.Flags().BoolVar(&inline, "inline", true, "run the provisioning job in this process while waiting")
	for _, f := range []string{"slug", "name", "owner-phone"} {
		_ = create.MarkFlagRequired(f)
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants with their status",
		Args:  cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.ListTenants(cmd.Context(), cmd.OutOrStdout())
		}),
	}
	status := func(use, short string, to tenancy.Status) *cobra.Command {
		var reason string
		sc := &cobra.Command{
			Use:   use + " SLUG",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: env.withApp(func(cmd *cobra.Command, args []string, a *App) error {
				t, err := a.SetTenantStatus(cmd.Context(), args[0], to, reason, "cli:"+currentUser())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", t.Slug, t.Status)
				return nil
			}),
		}
		sc.Flags().StringVar(&reason, "reason", "", "why (kept in the audit log and shown to the team)")
		return sc
	}
	c.AddCommand(create, list,
		status("suspend", "Suspend a tenant: its users see a paused page; no data is touched", tenancy.StatusSuspended),
		status("resume", "Resume a suspended tenant", tenancy.StatusActive))
	return c
}

func adminCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{Use: "admin", Short: "Manage platform administrators"}
	var email, password, role string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a platform administrator (signs in on admin.<base domain>)",
		Long:  "Create a platform administrator. An existing one with the same e-mail is left as it is (exit 0).",
		Args:  cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			_, err := a.Identity.CreateAdmin(cmd.Context(), email, password, identity.AdminRole(role))
			if errors.Is(err, identity.ErrAdminExists) {
				fmt.Fprintf(cmd.OutOrStdout(), "platform admin %s already exists\n", email)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "platform admin %s created (%s)\n", email, role)
			return nil
		}),
	}
	create.Flags().StringVar(&email, "email", "", "sign-in e-mail (required)")
	create.Flags().StringVar(&password, "password", "", "password, at least 8 characters (required)")
	create.Flags().StringVar(&role, "role", "owner", "platform role: owner, support or finance")
	_ = create.MarkFlagRequired("email")
	_ = create.MarkFlagRequired("password")
	c.AddCommand(create)
	return c
}

func ledgerCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{Use: "ledger", Short: "Inspect tenants' double-entry ledgers"}
	var slug string
	check := &cobra.Command{
		Use:   "check",
		Short: "Prove every journal sums to zero and every cached balance equals its entries",
		Long: "Check one tenant's ledger (--tenant SLUG) or every tenant's (--all). Exits non-zero when any " +
			"journal is unbalanced, any cached balance differs from its entries, or an account that must not " +
			"go negative ever did.",
		Args: cobra.NoArgs,
		RunE: env.withApp(func(cmd *cobra.Command, _ []string, a *App) error {
			return a.CheckLedgers(cmd.Context(), cmd.OutOrStdout(), slug)
		}),
	}
	check.Flags().StringVar(&slug, "tenant", "", "tenant slug; empty with --all checks every tenant")
	var all bool
	check.Flags().BoolVar(&all, "all", false, "check every tenant")
	check.PreRunE = func(*cobra.Command, []string) error {
		if (slug == "") == !all {
			return errors.New("give either --tenant SLUG or --all")
		}
		return nil
	}
	c.AddCommand(check)
	return c
}

func demoCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{Use: "demo", Short: "Development helpers for the demo campus"}
	c.AddCommand(&cobra.Command{
		Use:   "logins",
		Short: "Print the local URLs and the demo accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := env.config()
			if err != nil {
				return err
			}
			return printDemo(cmd.OutOrStdout(), cfg)
		},
	})
	return c
}

func printDemo(w interface{ Write([]byte) (int, error) }, cfg *config.Config) error {
	bp, err := blueprint.Load("demo")
	if err != nil {
		return err
	}
	demo := cfg.PublicURL("demo." + cfg.BaseDomain)
	fmt.Fprintf(w, "\nPaotui is up:\n")
	fmt.Fprintf(w, "  API docs        %s/api/docs\n", demo)
	fmt.Fprintf(w, "  OpenAPI         %s/api/openapi.json\n", demo)
	fmt.Fprintf(w, "  demo campus API %s/api/v1\n", demo)
	fmt.Fprintf(w, "  student app     %s/\n", demo)
	fmt.Fprintf(w, "  courier app     %s/courier/\n", demo)
	fmt.Fprintf(w, "  campus admin    %s/admin/\n", demo)
	fmt.Fprintf(w, "  signup, landing %s/\n", cfg.PublicURL(cfg.BaseDomain))
	fmt.Fprintf(w, "  platform panel  %s/  (admin@paotui.local / paotui-admin-dev)\n", cfg.PublicURL(tenancy.PlatformSubdomain+"."+cfg.BaseDomain))
	fmt.Fprintf(w, "\nDemo accounts on demo.%s (SMS codes are printed in the server log; staff may also use the password):\n", cfg.BaseDomain)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  phone\tname\troles\tpassword")
	for _, a := range bp.Accounts {
		pw := a.Password
		if pw == "" {
			pw = "(SMS code only)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Phone, a.Name, strings.Join(a.Roles, ","), pw)
	}
	return tw.Flush()
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "operator"
}

// SetTenantStatus suspends or resumes a tenant for an operator. It goes through the same path
// as the platform API (admin.Service.SetStatus): the same rules, the same audit entry, every
// replica told. A resume lifts any hold, as a platform admin's does (and cancels a deletion).
func (a *App) SetTenantStatus(ctx context.Context, slug string, to tenancy.Status, reason, actor string) (*tenancy.Tenant, error) {
	t, err := a.Registry.BySlug(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("tenant %q: %w", slug, err)
	}
	if to == tenancy.StatusActive && t.Status == tenancy.StatusProvisioning {
		// An operator must not skip the provisioning job's work by "resuming".
		return nil, fmt.Errorf("tenant %q is still provisioning; run `paotui tenant create %s` again to finish it", slug, slug)
	}
	if strings.TrimSpace(reason) == "" {
		reason = "by the operator"
	}
	svc := admin.New(a.DB, a.Registry, a.Resolver, a.Plans, a.Log)
	if _, err := svc.SetStatus(ctx, t.ID, to, reason, audit.Entry{Actor: actor}); err != nil {
		return nil, fmt.Errorf("tenant %q: %w", slug, err)
	}
	return a.Registry.ByID(ctx, t.ID)
}
