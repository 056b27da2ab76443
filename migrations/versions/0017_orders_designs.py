"""orders and designs: design owners, images and versions; production and shipments per line; amendments;
payment state, due dates and expiring reservations; item images, stock holds and stock settings

Revision ID: 0017
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('reservation_hours', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stock_settings_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_settings')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_stock_settings_organisation_id'))
    )
    op.create_table('item_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('thumb_sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), server_default='', nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['inventory_items.id'], name=op.f('fk_item_images_item_id_inventory_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_item_images_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_images'))
    )
    with op.batch_alter_table('item_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_images_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_images_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('order_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('stock', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_order_amendments_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_amendments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_order_amendments_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_amendments'))
    )
    with op.batch_alter_table('order_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_amendments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_amendments_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=60), server_default='', nullable=False),
    sa.Column('tracking_number', sa.String(length=120), server_default='', nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('shipped_by_id', sa.Integer(), nullable=True),
    sa.Column('shipped_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_shipments_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['shipped_by_id'], ['users.id'], name=op.f('fk_shipments_shipped_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('order_id', 'number', name=op.f('uq_shipments_order_id_number'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('stock_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), server_default='', nullable=False),
    sa.Column('status', sa.Enum('active', 'released', 'expired', name='holdstatus', native_enum=False, length=12), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('held_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_holds_quantity_positive')),
    sa.ForeignKeyConstraint(['held_by_id'], ['users.id'], name=op.f('fk_stock_holds_held_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['inventory_items.id'], name=op.f('fk_stock_holds_item_id_inventory_items')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stock_holds_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_holds'))
    )
    with op.batch_alter_table('stock_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_holds_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_holds_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_stock_holds_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('design_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('thumb_sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), server_default='', nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], name=op.f('fk_design_images_design_id_designs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_design_images_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_design_images'))
    )
    with op.batch_alter_table('design_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_design_images_design_id'), ['design_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_design_images_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('design_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('change', sa.String(length=200), server_default='', nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_design_versions_by_id_users')),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], name=op.f('fk_design_versions_design_id_designs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_design_versions_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_design_versions')),
    sa.UniqueConstraint('design_id', 'version', name=op.f('uq_design_versions_design_id_version'))
    )
    with op.batch_alter_table('design_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_design_versions_design_id'), ['design_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_design_versions_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('shipment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_shipment_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_items.id'], name=op.f('fk_shipment_lines_order_item_id_order_items')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_shipment_lines_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_lines_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_lines'))
    )
    with op.batch_alter_table('shipment_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_lines_order_item_id'), ['order_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_lines_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_lines_shipment_id'), ['shipment_id'], unique=False)

    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('public', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_designs_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_designs_owner_id_users'), 'users', ['owner_id'], ['id'])

    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_order_events_line_id_order_items'), 'order_items', ['line_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('production_status', sa.Enum('waiting', 'in_production', 'made', 'packed', name='linestatus', native_enum=False, length=16), server_default='waiting', nullable=False))
        batch_op.add_column(sa.Column('production_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('production_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shipped_quantity', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_order_items_production_by_id_users'), 'users', ['production_by_id'], ['id'])
        batch_op.create_check_constraint('shipped_within_quantity', 'shipped_quantity >= 0 AND shipped_quantity <= quantity')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('payment_status', sa.Enum('unpaid', 'paid', 'refunded', name='paymentstatus', native_enum=False, length=12), server_default='unpaid', nullable=False))
        batch_op.add_column(sa.Column('payment_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('payment_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reserved_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('notice', sa.Text(), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_orders_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_reserved_until'), ['reserved_until'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_orders_payment_by_id_users'), 'users', ['payment_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_payment_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_orders_reserved_until'))
        batch_op.drop_index(batch_op.f('ix_orders_due_date'))
        batch_op.drop_column('notice')
        batch_op.drop_column('reserved_until')
        batch_op.drop_column('payment_by_id')
        batch_op.drop_column('payment_at')
        batch_op.drop_column('payment_status')
        batch_op.drop_column('revision')
        batch_op.drop_column('due_date')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_items_shipped_within_quantity'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_order_items_production_by_id_users'), type_='foreignkey')
        batch_op.drop_column('shipped_quantity')
        batch_op.drop_column('production_by_id')
        batch_op.drop_column('production_at')
        batch_op.drop_column('production_status')

    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_events_line_id_order_items'), type_='foreignkey')
        batch_op.drop_column('line_id')

    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_designs_owner_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_designs_owner_id'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('version')
        batch_op.drop_column('public')
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('shipment_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_lines_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_lines_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_lines_order_item_id'))

    op.drop_table('shipment_lines')
    with op.batch_alter_table('design_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_versions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_design_versions_design_id'))

    op.drop_table('design_versions')
    with op.batch_alter_table('design_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_images_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_design_images_design_id'))

    op.drop_table('design_images')
    with op.batch_alter_table('stock_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_holds_status_expires_at')
        batch_op.drop_index(batch_op.f('ix_stock_holds_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_stock_holds_item_id'))

    op.drop_table('stock_holds')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('order_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_amendments_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_order_amendments_order_id'))

    op.drop_table('order_amendments')
    with op.batch_alter_table('item_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_images_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_item_images_item_id'))

    op.drop_table('item_images')
    op.drop_table('stock_settings')
