// Package store owns the database connection: the pgx-backed gorm handle, the one helper through
// which all tenant data is reached (InTenant, a transaction with search_path set locally to the
// tenant's schema), and the migration runner for the control plane and every tenant schema.
package store
