-- docker-compose.yml: one database per service in a region's PostgreSQL (runs on first start).
CREATE DATABASE actors;
CREATE DATABASE events;
CREATE DATABASE newsletter;
CREATE DATABASE funding;
CREATE DATABASE reporting;
