// Package provision owns bringing a tenant to life: registering it (slug, keys, the owner's
// contact sealed for the job), and the provisioning job that creates and migrates its schema,
// applies its blueprint, creates the owner (and demo accounts) and marks it active. Every step
// is idempotent, so a killed worker or a failed attempt is finished by running the job again.
package provision
