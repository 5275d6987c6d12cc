module gcsim.dev/validation/steady

go 1.27
