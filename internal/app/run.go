package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/paotui/paotui/internal/branding"
	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/idempotency"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/lifecycle"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/tracking"
	"github.com/paotui/paotui/internal/webapp"
)

// Serve runs the HTTP server (and the worker with withWorker) until ctx ends.
func (a *App) Serve(ctx context.Context, withWorker bool) error {
	srv := a.HTTP()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.Resolver.Run(gctx); return nil })
	g.Go(func() error { a.Authz.Run(gctx); return nil })
	g.Go(func() error { return ignoreCanceled(a.Hub.Run(gctx)) })
	if withWorker {
		g.Go(func() error { return a.runWorker(gctx) })
	}
	g.Go(func() error {
		a.Log.Info("serving", "addr", a.Cfg.HTTP.Addr, "base_domain", a.Cfg.BaseDomain, "worker", withWorker)
		return srv.Start(gctx)
	})
	return ignoreCanceled(g.Wait())
}

// RunWorker runs background jobs until ctx ends.
func (a *App) RunWorker(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.Resolver.Run(gctx); return nil })
	g.Go(func() error { a.Authz.Run(gctx); return nil })
	g.Go(func() error { return a.runWorker(gctx) })
	return ignoreCanceled(g.Wait())
}

func (a *App) runWorker(ctx context.Context) error {
	client := asynq.NewClient(a.RedisOpt)
	defer client.Close()
	srv := jobs.NewServer(a.RedisOpt, a.Cfg.Jobs, a.Registry, a.Log)
	a.registerJobs(srv, client)
	sched := jobs.NewScheduler(a.Redis, a.RedisOpt, a.Log)
	if err := a.registerPeriodic(sched); err != nil {
		return err
	}
	relay := jobs.NewRelay(a.DB, client, a.Cfg.Database.URL.Reveal(), a.Cfg.Jobs, a.Log)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { return sched.Run(gctx) })
	g.Go(func() error { return a.Tracking.RunFlusher(gctx, a.Registry, tracking.FlushEvery) })
	return g.Wait()
}

// registerJobs lists every task handler of every domain.
func (a *App) registerJobs(srv *jobs.Server, client *asynq.Client) {
	srv.Handle(provision.TaskProvision, a.Provision.HandleProvision)
	srv.Handle(provision.TaskSweep, a.Provision.HandleSweep)
	srv.Handle(jobs.TypePrune, jobs.NewPruner(a.DB, a.Cfg.Jobs).HandlePrune)
	srv.Handle(orders.TaskExpire, a.Orders.HandleExpire)
	srv.Handle(orders.TaskAutoConfirm, a.Orders.HandleAutoConfirm)
	srv.Handle(orders.TaskSweep, a.Orders.HandleSweep(activeTenants{a.Registry}))
	srv.Handle(orders.TaskStatusChanged, a.Orders.HandleStatusChanged(a.Live))
	srv.Handle(dispatch.TaskTick, dispatch.HandleTick(activeTenants{a.Registry}, client))
	srv.Handle(dispatch.TaskBatch, a.Dispatch.HandleBatch)
	srv.Handle(dispatch.TaskExpireOffer, a.Dispatch.HandleExpireOffer)
	srv.Handle(payments.TaskStripeEvent, a.Payments.HandleStripeEvent)
	srv.Handle(billing.TaskSetup, a.Billing.HandleSetup)
	srv.Handle(billing.TaskEvent, a.Billing.HandleEvent)
	srv.Handle(billing.TaskGrace, a.Billing.HandleGrace)
	srv.Handle(billing.TaskReportUsage, a.Billing.HandleReportUsage)
	srv.Handle(payments.TaskSucceeded, a.Orders.HandlePaymentSucceeded)
	srv.Handle(idempotency.TaskPrune, a.Idem.HandlePrune(activeTenants{a.Registry}))
	srv.Handle(lifecycle.TaskExport, a.Lifecycle.HandleExport)
	srv.Handle(lifecycle.TaskPurge, a.Lifecycle.HandlePurge)
	srv.Handle(lifecycle.TaskSweep, a.Lifecycle.HandleSweep)
}

// registerPeriodic lists the periodic fan-out tasks (one per period, never one per tenant).
func (a *App) registerPeriodic(s *jobs.Scheduler) error {
	sweep, err := jobs.NewTask(provision.TaskSweep, 0, nil)
	if err != nil {
		return err
	}
	prune, err := jobs.NewPruneTask()
	if err != nil {
		return err
	}
	orderSweep, err := jobs.NewTask(orders.TaskSweep, 0, nil)
	if err != nil {
		return err
	}
	if err := s.Register("@every 1m", sweep, asynq.Queue("low")); err != nil {
		return err
	}
	if err := s.Register(orders.SweepSpec(), orderSweep, asynq.Queue("default")); err != nil {
		return err
	}
	idemPrune, err := jobs.NewTask(idempotency.TaskPrune, 0, nil)
	if err != nil {
		return err
	}
	if err := s.Register("@every 1h", idemPrune, asynq.Queue("low")); err != nil {
		return err
	}
	lifecycleSweep, err := lifecycle.NewSweepTask()
	if err != nil {
		return err
	}
	// Purges are scheduled at each tenant's delete_after; this catches any that was lost.
	if err := s.Register(lifecycle.SweepSpec, lifecycleSweep); err != nil {
		return err
	}
	tick, err := dispatch.NewTickTask()
	if err != nil {
		return err
	}
	if err := s.Register(dispatch.TickSpec(), tick, asynq.Queue("critical")); err != nil {
		return err
	}
	grace, err := jobs.NewTask(billing.TaskGrace, 0, nil)
	if err != nil {
		return err
	}
	// Each grace period schedules its own check; this catches any that was lost.
	if err := s.Register("@every 1m", grace, asynq.Queue("default")); err != nil {
		return err
	}
	usage, err := jobs.NewTask(billing.TaskReportUsage, 0, nil)
	if err != nil {
		return err
	}
	if err := s.Register("@every "+a.Cfg.Billing.UsageReportInterval.String(), usage, asynq.Queue("low")); err != nil {
		return err
	}
	return s.Register("@every 1h", prune, asynq.Queue("low"))
}

// HTTP builds the server with every domain's operations.
func (a *App) HTTP() *httpx.Server {
	srv := httpx.New(httpx.Deps{
		Config:      a.Cfg,
		Hosts:       a.Resolver,
		Verifier:    verifier{a.Identity},
		Authz:       a.Authz,
		Idempotency: a.Idem,
		ImpAudit:    impersonationAudit{a.Identity},
		Log:         a.Log,
		Ready: []httpx.Checker{
			{Name: "postgres", Check: a.DB.Ping},
			{Name: "redis", Check: func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() }},
		},
	})
	a.registerOperations(srv)
	srv.ServeWeb(webapp.New(a.Web, branding.NewService(a.DB, a.Registry, a.Resolver), a.Log).Serve)
	return srv
}

// MigrateAll migrates the control plane, then every tenant schema.
func (a *App) MigrateAll(ctx context.Context, w io.Writer) error {
	if err := a.Migrator.UpPlatform(ctx); err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	schemas, err := a.Registry.Schemas(ctx)
	if err != nil {
		return err
	}
	rep := a.Migrator.UpTenants(ctx, schemas)
	failed := rep.Failed()
	fmt.Fprintf(w, "migrated control plane and %d tenant schemas in %s (%d failed)\n",
		len(schemas), rep.Took.Round(time.Millisecond), len(failed))
	for _, f := range failed {
		fmt.Fprintf(w, "FAILED %s at version %d: %v\n", f.Schema, f.To, f.Err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d tenant schema(s) failed to migrate; the others are up to date", len(failed))
	}
	return nil
}

// MigrateStatus prints each schema's version and flags the ones that lag.
func (a *App) MigrateStatus(ctx context.Context, w io.Writer) error {
	latestP, _ := a.Migrator.LatestPlatformVersion()
	latestT, err := a.Migrator.LatestTenantVersion()
	if err != nil {
		return err
	}
	tenants, _, err := a.Registry.List(ctx, tenancy.ListFilter{Limit: 1 << 30})
	if err != nil {
		return err
	}
	schemas := []string{"public"}
	for _, t := range tenants {
		schemas = append(schemas, t.Schema)
	}
	versions, err := a.Migrator.Versions(ctx, a.DB.SQL, schemas)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEMA\tTENANT\tSTATUS\tVERSION\tLATEST\tSTATE")
	lagging := 0
	for i, v := range versions {
		slug, status, latest := "(control plane)", "", latestP
		if i > 0 {
			slug, status, latest = tenants[i-1].Slug, string(tenants[i-1].Status), latestT
		}
		state := "ok"
		if v.Version < latest {
			state = "LAGGING"
			lagging++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", v.Schema, slug, status, v.Version, latest, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d schema(s) lagging\n", lagging)
	return nil
}

// CreateTenant registers (or resumes) a tenant and optionally waits for it to be active.
func (a *App) CreateTenant(ctx context.Context, w io.Writer, req provision.Request, wait time.Duration, inline bool) error {
	t, err := a.Provision.Register(ctx, req)
	switch {
	case errors.Is(err, tenancy.ErrSlugTaken) && t != nil && t.Status != tenancy.StatusProvisioning:
		fmt.Fprintf(w, "tenant %s already exists (%s)\n", t.Slug, t.Status)
		return nil
	case errors.Is(err, tenancy.ErrSlugTaken) && t != nil:
		fmt.Fprintf(w, "tenant %s is still provisioning; resuming\n", t.Slug)
		if err := a.Provision.Resume(ctx, t, req); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		fmt.Fprintf(w, "tenant %s registered (schema %s); provisioning\n", t.Slug, t.Schema)
	}
	if wait <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		if inline {
			if err := a.Provision.Provision(ctx, t.ID); err != nil && !errors.Is(err, provision.ErrBusy) {
				return fmt.Errorf("provision %s: %w", t.Slug, err)
			}
		}
		p, err := a.Provision.Progress(ctx, t.ID)
		if err != nil {
			return err
		}
		if p.Status == string(tenancy.StatusActive) {
			fmt.Fprintf(w, "tenant %s is active at %s\n", t.Slug, a.Cfg.PublicURL(t.Slug+"."+a.Cfg.BaseDomain))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tenant %s not active after %s (step %s, attempts %d, last error %q); is a worker running?",
				t.Slug, wait, p.Step, p.Attempts, p.LastError)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// ListTenants prints each tenant's slug and status.
func (a *App) ListTenants(ctx context.Context, w io.Writer) error {
	tenants, _, err := a.Registry.List(ctx, tenancy.ListFilter{Limit: 1 << 30})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tSTATUS\tNAME\tSCHEMA\tCREATED")
	for _, t := range tenants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.Status, t.Name, t.Schema, t.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
