"""The endpoints, one module per family; each is `async fn(engine, request[, user])`."""
