CREATE DATABASE eupolnet_registration OWNER eupolnet;
CREATE DATABASE eupolnet_orders OWNER eupolnet;
CREATE DATABASE eupolnet_notify OWNER eupolnet;
