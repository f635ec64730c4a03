package app_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/settings"
)

type hallView struct {
	Mode     string `json:"mode"`
	Sort     string `json:"sort"`
	Total    int64  `json:"total"`
	Position *struct{ Lng, Lat float64 }
	Items    []struct {
		ID             string `json:"id"`
		TaskType       string `json:"taskType"`
		DistanceMeters *int   `json:"distanceMeters"`
		Reward         int64  `json:"reward"`
		Pickup         struct {
			Name     string
			Lng, Lat *float64
		} `json:"pickup"`
		PaidAt         time.Time  `json:"paidAt"`
		GrabbableUntil *time.Time `json:"grabbableUntil"`
	} `json:"items"`
}

// The task hall over HTTP: only vetted couriers see it; distances are from the courier's last
// reported position and sort nearest first; reward sorts best paid first; a task type filters;
// nothing personal is shown; hybrid mode shows only orders inside their grab window and
// dispatch mode shows none.
func TestTaskHall(t *testing.T) {
	e := newErrandEnv(t)
	c := e.grabCampus(t)
	c.openOrders(t, 40, 7)
	hall := func(token, query string) (int, hallView, string) {
		t.Helper()
		r := e.Do(e.host, "GET", "/api/v1/courier/hall"+query, token, nil)
		var h hallView
		if r.Status == http.StatusOK {
			r.JSON(t, &h)
		}
		return r.Status, h, string(r.Body)
	}

	// A student is not a courier; an applicant is not vetted yet.
	if st, _, body := hall(e.student.AccessToken, ""); st != http.StatusForbidden {
		t.Fatalf("student: %d %s", st, body)
	}

	// Without a position the hall falls back to newest first.
	st, h, body := hall(e.courier.AccessToken, "?sort=distance")
	if st != http.StatusOK || h.Mode != "grab" || h.Sort != "newest" || h.Total != 40 || len(h.Items) != 30 || h.Items[0].DistanceMeters != nil {
		t.Fatalf("no position: %d %s", st, body)
	}
	for _, banned := range []string{"studentId", "form", "deliveryCode", "pickup_code", "studentPhone"} {
		if strings.Contains(body, banned) {
			t.Errorf("the hall shows %s before the order is taken", banned)
		}
	}

	// With a position: nearest first, and the distance is the one to the pickup.
	at := struct{ Lng, Lat float64 }{*h.Items[5].Pickup.Lng, *h.Items[5].Pickup.Lat}
	if r := e.Do(e.host, "POST", "/api/v1/courier/location", e.courier.AccessToken, map[string]float64{"lng": at.Lng, "lat": at.Lat}); r.Status != http.StatusNoContent {
		t.Fatalf("post-location: %d %s", r.Status, r.Body)
	}
	st, h, body = hall(e.courier.AccessToken, "?sort=distance&limit=40")
	if st != http.StatusOK || h.Sort != "distance" || len(h.Items) != 40 || h.Position == nil {
		t.Fatalf("by distance: %d %s", st, body)
	}
	for i, it := range h.Items {
		if it.DistanceMeters == nil {
			t.Fatalf("item %d has no distance", i)
		}
		want := math.Hypot((*it.Pickup.Lng-at.Lng)*math.Cos(at.Lat*math.Pi/180), *it.Pickup.Lat-at.Lat) * 111_195
		if math.Abs(float64(*it.DistanceMeters)-want) > 2 {
			t.Errorf("item %d: distance %d m, want %.0f", i, *it.DistanceMeters, want)
		}
		if i > 0 && *h.Items[i-1].DistanceMeters > *it.DistanceMeters {
			t.Errorf("items %d and %d are not nearest first", i-1, i)
		}
	}
	if *h.Items[0].DistanceMeters != 0 {
		t.Errorf("the order at the courier's position is %d m away", *h.Items[0].DistanceMeters)
	}

	// Best paid first.
	_, h, _ = hall(e.courier.AccessToken, "?sort=reward&limit=40")
	for i := 1; i < len(h.Items); i++ {
		if h.Items[i-1].Reward < h.Items[i].Reward {
			t.Errorf("items %d and %d are not best paid first", i-1, i)
		}
	}

	// One task type.
	kind := h.Items[0].TaskType
	_, h, _ = hall(e.courier.AccessToken, "?taskType="+kind+"&limit=40")
	if h.Total == 0 || h.Total >= 40 {
		t.Fatalf("task type %s: %d orders", kind, h.Total)
	}
	for _, it := range h.Items {
		if it.TaskType != kind {
			t.Errorf("filter %s let a %s through", kind, it.TaskType)
		}
	}

	// Hybrid: only orders paid within the grab window, with the time they leave the hall.
	c.setRules(t, func(b *settings.Business) { b.DispatchMode, b.GrabWindow = "hybrid", "30m" })
	_, h, _ = hall(e.courier.AccessToken, "?limit=40")
	if h.Mode != "hybrid" || h.Total >= 40 {
		t.Fatalf("hybrid: %d of 40 orders shown", h.Total)
	}
	for _, it := range h.Items {
		if time.Since(it.PaidAt) > 30*time.Minute || it.GrabbableUntil == nil || !it.GrabbableUntil.Equal(it.PaidAt.Add(30*time.Minute)) {
			t.Errorf("hybrid shows an order paid %s ago (grabbable until %v)", time.Since(it.PaidAt).Round(time.Second), it.GrabbableUntil)
		}
	}

	// Dispatch: orders come as offers, the hall is empty.
	c.setRules(t, func(b *settings.Business) { b.DispatchMode = "dispatch" })
	if _, h, _ = hall(e.courier.AccessToken, ""); h.Mode != "dispatch" || h.Total != 0 || h.Items == nil || len(h.Items) != 0 {
		t.Fatalf("dispatch: %+v", h)
	}
}
