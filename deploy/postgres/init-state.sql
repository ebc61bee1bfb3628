-- docker-compose.yml: the state runs funding and reporting only, one database each.
CREATE DATABASE funding;
CREATE DATABASE reporting;
