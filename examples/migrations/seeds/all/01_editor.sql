-- The editor account every environment starts with.
INSERT INTO authors (email, name, karma) VALUES ('editor@example.com', 'Editor', 0);
