-- A small sample inventory for the demo: one support pool with a sender on
-- every channel, two regional SMS numbers, and a deactivated number.
INSERT INTO comms_resolve.sender_pools (id, name, tags)
VALUES ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'Customer Support', '{"team": "support"}');

INSERT INTO comms_resolve.senders (display_name, address, channel, status) VALUES
    ('Customer Support', 'support@company.com', 'EMAIL', 'ACTIVATED'),
    ('Customer Support', '+15035551234', 'SMS', 'ACTIVATED'),
    ('Customer Support', '+15035551234', 'WHATSAPP', 'ACTIVATED'),
    ('Customer Support', 'company_support_agent', 'RCS', 'ACTIVATED'),
    ('Support SF', '+14155550100', 'SMS', 'ACTIVATED'),
    ('Support London', '+442071234567', 'SMS', 'ACTIVATED'),
    ('Support (old)', '+15035550000', 'SMS', 'DEACTIVATED');

INSERT INTO comms_resolve.sender_pool_senders (sender_pool_id, sender_id)
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', id FROM comms_resolve.senders;

-- Customers of a reporting job.
CREATE TABLE customers (id int PRIMARY KEY, name text, phone text, email text);
INSERT INTO customers VALUES
    (1, 'Jane Doe', '+14155552671', 'jane.doe@example.com'),
    (2, 'Tom Jones', '+447911123456', 'tom@example.co.uk'),
    (3, 'Ana Lima', '+5511912345678', NULL),
    (4, 'Sam Lee', '+12125550123', 'sam@example.com');
