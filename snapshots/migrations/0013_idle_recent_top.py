from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("snapshots", "0012_sweep_parts"),
    ]

    operations = [
        migrations.AddField(
            model_name="detectstate",
            name="recent_top",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="detectstate",
            name="recent_top_updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="detectstate",
            name="recent_top_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
